//! Granting and revoking scopes.

use serde_json::Value;

use super::{Draft, GrantRow, GrantStatus, store};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected};
use crate::ledger::{Subject, action};
use crate::registry::checks::check_unique;
use crate::registry::parties::{self, PartyStatus};
use crate::registry::services;
use crate::taxonomy::{Part, store::check_known};

fn record(
    conn: &mut DbConn,
    actor: &Value,
    action: &str,
    row: &GrantRow,
) -> Result<(), DomainError> {
    let mut change = serde_json::to_value(row.clone().view(crate::time::now()))?;
    // `effective` depends on when it is read; the ledger keeps only what was written.
    if let Some(obj) = change.as_object_mut() {
        obj.remove("effective");
    }
    crate::ledger::append(conn, actor, action, Subject::Grant(&row.id), &change, true)?;
    Ok(())
}

/// Grants the party `party_id` a scope; `draft` is judged once the party is found. The service
/// and every category must exist, `valid_until` must follow `valid_from`, and an offboarded
/// party gets no new grants. The grant waits for a second person's approval.
pub fn create(
    conn: &mut DbConn,
    actor: &Principal,
    party_id: &str,
    draft: impl FnOnce() -> Result<Draft, DomainError>,
) -> Result<GrantRow, DomainError> {
    let party = parties::store::find(conn, party_id)?.ok_or(DomainError::NotFound)?;
    let new = draft()?;
    let row = build(conn, actor, party, new, None)?;
    store::insert(conn, &row)?;
    record(conn, &actor.actor(), action::GRANT_CREATED, &row)?;
    Ok(row)
}

/// Amends or renews grant `id` at the version `expected`: a new grant, waiting for approval,
/// that `supersedes` it; the old one stays in force until the new one is approved (see
/// [`approve`]). A revoked or superseded grant is not amended, nor one with an amendment
/// waiting already.
pub fn amend(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    amendment: impl FnOnce() -> Result<super::Amendment, DomainError>,
) -> Result<GrantRow, DomainError> {
    let old = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(old.version)?;
    let draft = amendment()?.apply_to(&old);
    if old.status == GrantStatus::Revoked {
        return Err(DomainError::Conflict(match &old.superseded_by {
            Some(by) => format!("The grant was superseded by {by}: amend that one."),
            None => "A revoked grant is not amended: grant the scope anew.".into(),
        }));
    }
    if let Some(waiting) = store::pending_amendment_of(conn, &old.id)? {
        return Err(DomainError::Conflict(format!(
            "The grant has an amendment waiting for approval ({waiting}): approve or revoke it first."
        )));
    }
    let party = parties::store::find(conn, &old.party_id)?.ok_or(DomainError::NotFound)?;
    let row = build(conn, actor, party, draft, Some(old.id))?;
    store::insert(conn, &row)?;
    record(conn, &actor.actor(), action::GRANT_CREATED, &row)?;
    Ok(row)
}

/// A new grant of `party` from `new`, every rule checked, asked for by `actor`.
fn build(
    conn: &mut DbConn,
    actor: &Principal,
    party: parties::PartyRow,
    new: Draft,
    supersedes: Option<String>,
) -> Result<GrantRow, DomainError> {
    check_unique("categories", &new.categories)?;
    check_unique("allowed_regions", &new.allowed_regions)?;
    let now = crate::time::now();
    let valid_from = match &new.valid_from {
        Some(v) => crate::time::parse(v)
            .ok_or_else(|| DomainError::field("valid_from", "must be an RFC 3339 timestamp"))?,
        None => now,
    };
    let valid_until =
        match &new.valid_until {
            Some(v) => Some(crate::time::parse(v).ok_or_else(|| {
                DomainError::field("valid_until", "must be an RFC 3339 timestamp")
            })?),
            None => None,
        };
    if valid_until.is_some_and(|u| u <= valid_from) {
        return Err(DomainError::field(
            "valid_until",
            "must be after valid_from",
        ));
    }
    check_known(conn, Part::Categories, "categories", &new.categories)?;
    if services::store::find(conn, &new.service)?.is_none() {
        return Err(DomainError::field("service", "no such service"));
    }
    check_evidence(conn, &party.id, &new.agreements, &new.exemptions)?;
    if party.status == PartyStatus::Offboarded {
        return Err(DomainError::Conflict(
            "An offboarded party gets no new grants.".into(),
        ));
    }
    party.four_eyes(&actor.sub, "grant it a scope")?;
    let stamp = crate::time::format(now);
    Ok(GrantRow {
        id: uuid::Uuid::now_v7().to_string(),
        party_id: party.id,
        service: new.service,
        categories: new.categories.into(),
        allowed_regions: new.allowed_regions.into(),
        transfer_mechanism: new.transfer_mechanism,
        legal_basis: new.legal_basis,
        valid_from: crate::time::format(valid_from),
        valid_until: valid_until.map(crate::time::format),
        status: GrantStatus::Active,
        revoked_reason: None,
        revoked_at: None,
        created_by: actor.sub.clone(),
        created_at: stamp.clone(),
        updated_at: stamp,
        version: 1,
        agreements: new.agreements.into(),
        exemptions: new.exemptions.into(),
        pipia_reference: new.pipia_reference,
        separate_consent: new.separate_consent,
        requested_by: actor.sub.clone(),
        approved_by: None,
        approved_at: None,
        supersedes,
        superseded_by: None,
    })
}

/// The agreements must be the party's own, listed once; exemptions once each.
fn check_evidence(
    conn: &mut DbConn,
    party_id: &str,
    agreements: &[String],
    exemptions: &[crate::transfers::Exemption],
) -> Result<(), DomainError> {
    check_unique("agreements", agreements)?;
    check_unique("exemptions", exemptions)?;
    let own = crate::registry::agreements::store::of_party_among(conn, party_id, agreements)?;
    let errors = agreements
        .iter()
        .enumerate()
        .filter(|(_, a)| !own.contains(a))
        .map(|(i, _)| {
            crate::error::FieldError::new(
                format!("agreements[{i}]"),
                "is not an agreement of this party",
            )
        })
        .collect();
    crate::error::collect(errors)
}

/// Changes the agreements or exemptions of a grant at the version `expected`; nothing else of
/// a grant changes (a wider scope is a new grant). A revoked grant cannot be changed. An added
/// exemption widens what the grant allows, so the grant waits for approval again, asked for by
/// `actor`.
pub fn update(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    changes: impl FnOnce() -> Result<super::Changes, DomainError>,
) -> Result<GrantRow, DomainError> {
    let mut row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let c = changes()?;
    let agreements = c.agreements.unwrap_or_else(|| row.agreements.0.clone());
    let exemptions = c.exemptions.unwrap_or_else(|| row.exemptions.0.clone());
    check_evidence(conn, &row.party_id, &agreements, &exemptions)?;
    if row.status == GrantStatus::Revoked {
        return Err(DomainError::Conflict(
            "A revoked grant cannot be changed.".into(),
        ));
    }
    if exemptions.iter().any(|e| !row.exemptions.0.contains(e)) {
        let party = parties::store::find(conn, &row.party_id)?.ok_or(DomainError::NotFound)?;
        party.four_eyes(&actor.sub, "add an exemption to its grant")?;
        row.requested_by = actor.sub.clone();
        row.approved_by = None;
        row.approved_at = None;
    }
    row.agreements = agreements.into();
    row.exemptions = exemptions.into();
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    store::save(conn, &row)?;
    record(conn, &actor.actor(), action::GRANT_UPDATED, &row)?;
    Ok(row)
}

/// Approves a grant waiting for it, at the version `expected`: from now on decisions may rely
/// on it. Four eyes: whoever asked for the scope (`requested_by`) cannot approve it. An
/// amendment's approval revokes the grant it supersedes, in the same transaction.
pub fn approve(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
) -> Result<GrantRow, DomainError> {
    let mut row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    if row.status == GrantStatus::Revoked {
        return Err(DomainError::Conflict(
            "A revoked grant cannot be approved.".into(),
        ));
    }
    if row.approved_at.is_some() {
        return Err(DomainError::Conflict(
            "The grant is approved already.".into(),
        ));
    }
    if row.requested_by == actor.sub {
        return Err(DomainError::NotPermitted(
            "Four eyes: the principal who asked for this scope cannot approve it; another principal must.".into(),
        ));
    }
    let now = crate::time::format(crate::time::now());
    row.approved_by = Some(actor.sub.clone());
    row.approved_at = Some(now.clone());
    row.updated_at = now;
    row.version += 1;
    store::save(conn, &row)?;
    record(conn, &actor.actor(), action::GRANT_APPROVED, &row)?;
    if let Some(old) = &row.supersedes
        && let Some(mut old) = store::find(conn, old)?
        && old.status == GrantStatus::Active
    {
        old.superseded_by = Some(row.id.clone());
        let reason = format!("superseded by {}", row.id);
        revoke(conn, &actor.actor(), old, Some(reason))?;
    }
    Ok(row)
}

fn revoke(
    conn: &mut DbConn,
    actor: &Value,
    mut row: GrantRow,
    reason: Option<String>,
) -> Result<GrantRow, DomainError> {
    let now = crate::time::format(crate::time::now());
    row.status = GrantStatus::Revoked;
    row.revoked_reason = reason;
    row.revoked_at = Some(now.clone());
    row.updated_at = now;
    row.version += 1;
    store::save(conn, &row)?;
    record(conn, actor, action::GRANT_REVOKED, &row)?;
    Ok(row)
}

/// Revokes a grant at the version `expected`; `reason` is judged once the grant is found and
/// the version matched. It takes effect for every decision answered after this commits.
pub fn revoke_one(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    reason: impl FnOnce() -> Result<Option<String>, DomainError>,
) -> Result<GrantRow, DomainError> {
    let row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let reason = reason()?;
    if row.status == GrantStatus::Revoked {
        return Err(DomainError::Conflict(
            "The grant is revoked already.".into(),
        ));
    }
    revoke(conn, &actor.actor(), row, reason)
}

/// Revokes every active grant of a party, one ledger entry each (offboarding).
pub fn revoke_all(
    conn: &mut DbConn,
    actor: &Value,
    party_id: &str,
    reason: &str,
) -> Result<usize, DomainError> {
    let active = store::active_of_party(conn, party_id)?;
    let n = active.len();
    for row in active {
        revoke(conn, actor, row, Some(reason.to_owned()))?;
    }
    Ok(n)
}
