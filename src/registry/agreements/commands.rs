//! Recording, changing and withdrawing agreements. Every change is a register change: the
//! decisions that follow judge the new state.

use chrono::Months;

use super::{Agreement, AgreementRow, Changes, Draft, store};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected, FieldError};
use crate::ledger::{Subject, action};
use crate::registry::parties::{self, PartyKind, PartyStatus};
use crate::transfers::{AgreementKind, AgreementStatus};

fn record(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    row: &AgreementRow,
) -> Result<(), DomainError> {
    let change = serde_json::to_value(Agreement::from(row.clone()))?;
    crate::ledger::append(
        conn,
        &actor.actor(),
        action,
        Subject::Agreement(&row.id),
        &change,
        true,
    )?;
    Ok(())
}

/// The rules between fields: a window that ends after it starts, a CAC assessment of three
/// years at most (CAC 2024 Art. 9), BCRs only between affiliates (GDPR Art. 47).
fn check(row: &AgreementRow, party_kind: PartyKind) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    let from = crate::time::parse(&row.valid_from);
    let until = row.valid_until.as_deref().and_then(crate::time::parse);
    if let (Some(f), Some(u)) = (from, until)
        && u <= f
    {
        errors.push(FieldError::new("valid_until", "must be after valid_from"));
    }
    if row.kind == AgreementKind::CacSecurityAssessment
        && let (Some(f), Some(u)) = (from, until)
        && f.checked_add_months(Months::new(36))
            .is_some_and(|cap| u > cap)
    {
        errors.push(FieldError::new(
            "valid_until",
            "a CAC security assessment is valid three years from its issue date at most (CAC 2024 Art. 9); an extension is a new agreement",
        ));
    }
    if row.kind == AgreementKind::EuBcr && party_kind != PartyKind::Affiliate {
        errors.push(FieldError::new(
            "kind",
            "eu_bcr binds only the company's own affiliates (GDPR Art. 47)",
        ));
    }
    crate::error::collect(errors)
}

/// Records an agreement with party `party_id`; `draft` is judged once the party is found.
pub fn create(
    conn: &mut DbConn,
    actor: &Principal,
    party_id: &str,
    draft: impl FnOnce() -> Result<Draft, DomainError>,
) -> Result<AgreementRow, DomainError> {
    let party = parties::store::find(conn, party_id)?.ok_or(DomainError::NotFound)?;
    let d = draft()?;
    if crate::registry::entities::find(conn, &d.exporter)?.is_none() {
        return Err(DomainError::field("exporter", "is not a registered entity"));
    }
    if party.status == PartyStatus::Offboarded {
        return Err(DomainError::Conflict(
            "An offboarded party takes no new agreements.".into(),
        ));
    }
    let now = crate::time::format(crate::time::now());
    let row = AgreementRow {
        id: uuid::Uuid::now_v7().to_string(),
        party_id: party.id,
        exporter: d.exporter,
        kind: d.kind,
        reference: d.reference,
        signed_on: d.signed_on,
        valid_from: d.valid_from,
        valid_until: d.valid_until,
        filing_reference: d.filing_reference,
        pipia_reference: d.pipia_reference,
        tia_reference: d.tia_reference,
        document_sha256: d.document_sha256,
        status: AgreementStatus::Active,
        withdrawn_reason: None,
        created_by: actor.sub.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    check(&row, party.kind)?;
    store::insert(conn, &row)?;
    record(conn, actor, action::AGREEMENT_CREATED, &row)?;
    Ok(row)
}

fn load(
    conn: &mut DbConn,
    id: &str,
    expected: &Expected,
) -> Result<(AgreementRow, PartyKind), DomainError> {
    let row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let kind = parties::store::find(conn, &row.party_id)?.map_or(PartyKind::ThirdParty, |p| p.kind);
    Ok((row, kind))
}

fn save(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    mut row: AgreementRow,
) -> Result<AgreementRow, DomainError> {
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    store::save(conn, &row)?;
    record(conn, actor, action, &row)?;
    Ok(row)
}

/// Changes an agreement at the version `expected`. A withdrawn agreement cannot be changed.
pub fn update(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    changes: impl FnOnce() -> Result<Changes, DomainError>,
) -> Result<AgreementRow, DomainError> {
    let (mut row, party_kind) = load(conn, id, expected)?;
    let c = changes()?;
    if row.status == AgreementStatus::Withdrawn {
        return Err(DomainError::Conflict(
            "A withdrawn agreement cannot be changed; record a new one.".into(),
        ));
    }
    if let Some(v) = c.reference {
        row.reference = v;
    }
    if let Some(v) = c.valid_from {
        row.valid_from = v;
    }
    for (field, value) in [
        (&mut row.signed_on, c.signed_on),
        (&mut row.valid_until, c.valid_until),
        (&mut row.filing_reference, c.filing_reference),
        (&mut row.pipia_reference, c.pipia_reference),
        (&mut row.tia_reference, c.tia_reference),
        (&mut row.document_sha256, c.document_sha256),
    ] {
        if let Some(v) = value {
            *field = v;
        }
    }
    check(&row, party_kind)?;
    save(conn, actor, action::AGREEMENT_UPDATED, row)
}

/// Withdraws an agreement at the version `expected`, with the reason; it backs nothing after.
pub fn withdraw(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    reason: impl FnOnce() -> Result<String, DomainError>,
) -> Result<AgreementRow, DomainError> {
    let (mut row, _) = load(conn, id, expected)?;
    let reason = reason()?;
    if row.status == AgreementStatus::Withdrawn {
        return Err(DomainError::Conflict(
            "The agreement was withdrawn already.".into(),
        ));
    }
    row.status = AgreementStatus::Withdrawn;
    row.withdrawn_reason = Some(reason);
    save(conn, actor, action::AGREEMENT_WITHDRAWN, row)
}
