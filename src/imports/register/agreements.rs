//! A register row's agreement: matched by `agreement_id`, or by its exporter, kind and
//! reference among its party's agreements; created, changed or left as it is through the
//! agreements' own commands. A grant's `grant_agreements` may name an agreement of its party by
//! reference as well as by id, so a new sheet can record an agreement and the grant it backs.

use super::RowOutcome;
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected, FieldError};
use crate::registry::agreements::{self, AgreementRow, Changes, Draft};
use crate::registry::grants;
use crate::registry::parties::PartyRow;

/// An agreement's field errors, named by their columns (`agreement_valid_from`).
pub fn agreement_fields(e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid(fields) => DomainError::Invalid(
            fields
                .into_iter()
                .map(|f| FieldError::new(format!("agreement_{}", f.field), f.message))
                .collect(),
        ),
        other => other,
    }
}

/// What differs between a stored agreement and a row's (exporter and kind never change).
fn changes(a: &AgreementRow, d: &Draft) -> Option<Changes> {
    fn differs<T: PartialEq + Clone>(stored: &T, row: &T) -> Option<T> {
        (stored != row).then(|| row.clone())
    }
    let same_instant =
        |x: Option<&str>, y: Option<&str>| x.map(crate::time::parse) == y.map(crate::time::parse);
    let c = Changes {
        reference: differs(&a.reference, &d.reference),
        signed_on: differs(&a.signed_on, &d.signed_on),
        valid_from: (!same_instant(Some(&a.valid_from), Some(&d.valid_from)))
            .then(|| d.valid_from.clone()),
        valid_until: (!same_instant(a.valid_until.as_deref(), d.valid_until.as_deref()))
            .then(|| d.valid_until.clone()),
        filing_reference: differs(&a.filing_reference, &d.filing_reference),
        pipia_reference: differs(&a.pipia_reference, &d.pipia_reference),
        tia_reference: differs(&a.tia_reference, &d.tia_reference),
        document_sha256: differs(&a.document_sha256, &d.document_sha256),
    };
    let nothing = c.reference.is_none()
        && c.signed_on.is_none()
        && c.valid_from.is_none()
        && c.valid_until.is_none()
        && c.filing_reference.is_none()
        && c.pipia_reference.is_none()
        && c.tia_reference.is_none()
        && c.document_sha256.is_none();
    (!nothing).then_some(c)
}

/// Applies a row's agreement for `party`; answers its id and what was done.
pub fn apply(
    conn: &mut DbConn,
    actor: &Principal,
    party: &PartyRow,
    id: Option<&str>,
    d: Draft,
) -> Result<(String, RowOutcome), DomainError> {
    let existing = match id {
        Some(id) => Some(
            agreements::store::find(conn, id)?
                .filter(|a| a.party_id == party.id)
                .ok_or_else(|| {
                    DomainError::field("agreement_id", "is not an agreement of this party")
                })?,
        ),
        None => agreements::store::of_party(conn, &party.id, None, None)?
            .into_iter()
            .find(|a| a.exporter == d.exporter && a.kind == d.kind && a.reference == d.reference),
    };
    let Some(a) = existing else {
        let row = agreements::commands::create(conn, actor, &party.id, || Ok(d))
            .map_err(agreement_fields)?;
        return Ok((row.id, RowOutcome::Created));
    };
    if a.exporter != d.exporter || a.kind != d.kind {
        return Err(DomainError::field(
            "agreement_kind",
            "an agreement's exporter and kind never change: leave agreement_id empty to record a new one",
        ));
    }
    match changes(&a, &d) {
        None => Ok((a.id, RowOutcome::Unchanged)),
        Some(c) => {
            let expected = Expected(Some(vec![a.version]));
            let row = agreements::commands::update(conn, actor, &a.id, &expected, || Ok(c))
                .map_err(agreement_fields)?;
            Ok((row.id, RowOutcome::Updated))
        }
    }
}

/// `draft` with each of its agreements that names one of the party's by reference (not by id)
/// named by id.
pub fn resolve(
    conn: &mut DbConn,
    party_id: &str,
    mut draft: grants::Draft,
) -> Result<grants::Draft, DomainError> {
    if draft.agreements.is_empty() {
        return Ok(draft);
    }
    let own = agreements::store::of_party(conn, party_id, None, None)?;
    for name in &mut draft.agreements {
        if own.iter().any(|a| a.id == *name) {
            continue;
        }
        let mut by_reference = own.iter().filter(|a| a.reference == *name);
        if let (Some(a), None) = (by_reference.next(), by_reference.next()) {
            *name = a.id.clone();
        }
    }
    Ok(draft)
}
