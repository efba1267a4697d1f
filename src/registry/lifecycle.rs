//! The party lifecycle, in one place: `pending_review → trusted ⇄ suspended`, any state
//! `→ offboarded` (final, revoking every grant); what a party needs before it can be trusted;
//! four eyes on trust; and withdrawal from an upstream vendor list.

use super::grants::commands::revoke_all;
use super::parties::commands::record;
use super::parties::{PartyRow, PartyStatus, is_https_url, store};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected, FieldError};
use crate::ledger::action;

impl PartyStatus {
    /// The lifecycle's legal transitions.
    pub fn can_become(self, to: PartyStatus) -> bool {
        use PartyStatus::*;
        matches!(
            (self, to),
            (PendingReview, Trusted)
                | (Trusted, Suspended)
                | (Suspended, Trusted)
                | (PendingReview | Trusted | Suspended, Offboarded)
        )
    }
}

/// A requested status change.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: PartyStatus,
    /// Why; kept as `status_reason` and in the ledger.
    pub reason: Option<String>,
}

/// What a party must have before it can be trusted: every missing field at once.
pub fn trust_preconditions(row: &PartyRow) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    if row.country.is_none() {
        errors.push(FieldError::new(
            "country",
            "must be set before the party can be trusted",
        ));
    }
    if row.data_locations.is_empty() {
        errors.push(FieldError::new(
            "data_locations",
            "must be set before the party can be trusted",
        ));
    }
    if !row.contact_email.contains('@') {
        errors.push(FieldError::new(
            "contact_email",
            "must be set before the party can be trusted",
        ));
    }
    if !is_https_url(&row.privacy_policy_url) {
        errors.push(FieldError::new(
            "privacy_policy_url",
            "must be an https URL before the party can be trusted",
        ));
    }
    crate::error::collect(errors)
}

/// Who last suspended party `id` (the `sub` of the ledger entry that did), if anyone.
fn suspended_by(conn: &mut DbConn, id: &str) -> Result<Option<String>, DomainError> {
    let subject = crate::ledger::Subject::Party(id).to_string();
    let Some(row) = crate::ledger::store::latest_of_subject_action(
        conn,
        &subject,
        action::PARTY_STATUS_CHANGED,
    )?
    else {
        return Ok(None);
    };
    let actor: serde_json::Value = serde_json::from_str(&row.actor)?;
    Ok(actor["sub"].as_str().map(str::to_owned))
}

/// Whether `by` may move `row` to `to`: trust preconditions, four eyes, withdrawal, and the
/// transition itself, in that order. `suspender` is who suspended the party, when it is suspended.
pub fn check(
    row: &PartyRow,
    to: PartyStatus,
    by: &str,
    suspender: Option<&str>,
) -> Result<(), DomainError> {
    if to == PartyStatus::Trusted {
        trust_preconditions(row)?;
        if by == row.created_by {
            return Err(DomainError::NotPermitted(
                "Four eyes: the principal who registered a party cannot mark it trusted.".into(),
            ));
        }
        if row.deleted_upstream {
            return Err(DomainError::Conflict(
                "The party was withdrawn from its vendor list and can never be trusted.".into(),
            ));
        }
        // Back in review after a material change: not trusted again by who made it.
        if row.status == PartyStatus::PendingReview && row.status_changed_by.as_deref() == Some(by)
        {
            return Err(DomainError::NotPermitted(
                "Four eyes: the principal whose material change sent the party back to review cannot trust it again; another principal must.".into(),
            ));
        }
        if row.status == PartyStatus::Suspended && suspender == Some(by) {
            return Err(DomainError::NotPermitted(
                "Four eyes: the principal who suspended a party cannot lift the suspension; another principal must.".into(),
            ));
        }
    }
    if !row.status.can_become(to) {
        return Err(DomainError::Conflict(format!(
            "A party cannot go from {} to {}.",
            row.status, to
        )));
    }
    Ok(())
}

/// Changes a party's status at the version `expected`; `change` is judged once the party is
/// found and the version matched. Offboarding revokes every active grant, one entry each.
pub fn change_status(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    change: impl FnOnce() -> Result<StatusChange, DomainError>,
) -> Result<PartyRow, DomainError> {
    let mut row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let change = change()?;
    let suspender = if row.status == PartyStatus::Suspended && change.status == PartyStatus::Trusted
    {
        suspended_by(conn, id)?
    } else {
        None
    };
    check(&row, change.status, &actor.sub, suspender.as_deref())?;
    row.status_changed_by = Some(actor.sub.clone());
    let actor = actor.actor();
    row.status = change.status;
    row.status_reason = change.reason;
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    row.status_changed_at = Some(row.updated_at.clone());
    store::save(conn, &row)?;
    record(conn, &actor, action::PARTY_STATUS_CHANGED, &row)?;
    if change.status == PartyStatus::Offboarded {
        revoke_all(conn, &actor, &row.id, "party offboarded")?;
    }
    Ok(row)
}

/// Suspends party `id` because of an incident, in the caller's transaction and without a
/// version precondition (the incident is the reason). Only a trusted party is suspended;
/// returns whether it was, with the status reason recorded or why it was left as it was.
pub fn suspend_for_incident(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    reason: String,
) -> Result<(bool, String), DomainError> {
    let mut row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    if row.status != PartyStatus::Trusted {
        return Ok((
            false,
            format!(
                "the party is {}: only a trusted party is suspended",
                row.status
            ),
        ));
    }
    row.status = PartyStatus::Suspended;
    row.status_reason = Some(reason.clone());
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    row.status_changed_by = Some(actor.sub.clone());
    row.status_changed_at = Some(row.updated_at.clone());
    store::save(conn, &row)?;
    record(conn, &actor.actor(), action::PARTY_STATUS_CHANGED, &row)?;
    Ok((true, reason))
}

/// Marks a party withdrawn from its upstream list (for good: it can never be trusted again),
/// suspending it when it was trusted. Changes `row` only; the caller records it. Returns
/// whether the party was suspended (by `by`, the importer).
pub fn withdraw(row: &mut PartyRow, on: Option<&str>, by: &str) -> bool {
    row.deleted_upstream = true;
    if row.status == PartyStatus::Trusted && row.status.can_become(PartyStatus::Suspended) {
        row.status = PartyStatus::Suspended;
        row.status_changed_by = Some(by.to_owned());
        row.status_changed_at = Some(crate::time::format(crate::time::now()));
        row.status_reason = Some(format!(
            "withdrawn from the IAB Global Vendor List on {}",
            on.unwrap_or("an earlier version")
        ));
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lifecycle_transitions_are_legal() {
        use PartyStatus::*;
        let legal: Vec<(PartyStatus, PartyStatus)> = PartyStatus::ALL
            .iter()
            .flat_map(|a| PartyStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            legal,
            vec![
                (PendingReview, Trusted),
                (PendingReview, Offboarded),
                (Trusted, Suspended),
                (Trusted, Offboarded),
                (Suspended, Trusted),
                (Suspended, Offboarded),
            ]
        );
    }
}
