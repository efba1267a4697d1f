//! Registering and changing parties (their status has its own home, `registry::lifecycle`).

use super::{Changes, Draft, Facts, Party, PartyRow, PartyStatus, store};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected};
use crate::ledger::{Subject, action};
use crate::registry::checks::check_unique;
use crate::taxonomy::{Part, store::check_known};
use crate::types::Region;

/// Records a party's state after a change: one ledger entry, a register change.
pub fn record(
    conn: &mut DbConn,
    actor: &serde_json::Value,
    action: &str,
    row: &PartyRow,
) -> Result<(), DomainError> {
    let change = serde_json::to_value(Party::from(row.clone()))?;
    crate::ledger::append(conn, actor, action, Subject::Party(&row.id), &change, true)?;
    Ok(())
}

fn check_declared(
    conn: &mut DbConn,
    purposes: &[String],
    categories: &[String],
) -> Result<(), DomainError> {
    check_known(conn, Part::Purposes, "declared_purposes", purposes)?;
    check_known(conn, Part::Categories, "declared_categories", categories)
}

/// Inserts a party, refusing an external reference another party holds.
pub fn insert(conn: &mut DbConn, row: &PartyRow) -> Result<(), DomainError> {
    if let Some(r) = &row.external_ref
        && store::external_ref_taken(conn, r, None)?
    {
        return Err(DomainError::Conflict(
            "A party with that external_ref exists already.".into(),
        ));
    }
    store::insert(conn, row)?;
    Ok(())
}

/// Registers a party; it starts `pending_review`, with the caller as `created_by`.
pub fn create(conn: &mut DbConn, actor: &Principal, new: Draft) -> Result<PartyRow, DomainError> {
    check_unique("declared_purposes", &new.declared_purposes)?;
    check_unique("declared_categories", &new.declared_categories)?;
    check_declared(conn, &new.declared_purposes, &new.declared_categories)?;
    let now = crate::time::format(crate::time::now());
    let row = PartyRow {
        id: uuid::Uuid::now_v7().to_string(),
        kind: new.kind,
        legal_name: new.legal_name,
        region: Some(new.country.region()),
        country: Some(new.country),
        data_locations: new.data_locations.into(),
        privacy_policy_url: new.privacy_policy_url,
        contact_email: new.contact_email,
        contract_reference: new.contract_reference,
        risk_tier: new.risk_tier,
        next_review_due: new.next_review_due,
        status: PartyStatus::PendingReview,
        status_reason: None,
        external_ref: new.external_ref,
        declared_purposes: new.declared_purposes.into(),
        declared_categories: new.declared_categories.into(),
        deleted_upstream: false,
        created_by: actor.sub.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        principal_place_of_business: None,
        ownership: Vec::new().into(),
        us_dsp_covered: false,
        us_dsp_covered_by: None,
        pipl_restricted: false,
        pipl_restricted_by: None,
        dpf_certified_until: None,
        status_changed_by: None,
        status_changed_at: None,
        sub_processors: Vec::new().into(),
    };
    let mut row = row;
    apply_facts(&mut row, &actor.sub, new.facts)?;
    insert(conn, &row)?;
    record(conn, &actor.actor(), action::PARTY_CREATED, &row)?;
    Ok(row)
}

/// Changes a party's record at the version `expected`; `changes` is judged once the party is
/// found and the version matched. An offboarded party cannot be changed.
pub fn update(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    changes: impl FnOnce() -> Result<Changes, DomainError>,
) -> Result<PartyRow, DomainError> {
    let mut row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let changes = changes()?;
    if let Some(p) = &changes.declared_purposes {
        check_unique("declared_purposes", p)?;
        check_known(conn, Part::Purposes, "declared_purposes", p)?;
    }
    if let Some(c) = &changes.declared_categories {
        check_unique("declared_categories", c)?;
        check_known(conn, Part::Categories, "declared_categories", c)?;
    }
    if row.status == PartyStatus::Offboarded {
        return Err(DomainError::Conflict(
            "An offboarded party cannot be changed.".into(),
        ));
    }
    if let Some(Some(r)) = &changes.external_ref
        && store::external_ref_taken(conn, r, Some(&row.id))?
    {
        return Err(DomainError::Conflict(
            "A party with that external_ref exists already.".into(),
        ));
    }
    if let Some(locations) = &changes.data_locations
        && locations.iter().any(|c| !row.data_locations.contains(c))
    {
        row.four_eyes(&actor.sub, "add a processing country")?;
    }
    let material = row.material_changes(&changes);
    let facts = changes.facts.clone();
    apply(&mut row, changes);
    apply_facts(&mut row, &actor.sub, facts)?;
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    if row.status == PartyStatus::Trusted && !material.is_empty() {
        row.status = PartyStatus::PendingReview;
        row.status_reason = Some(format!(
            "material change ({}): to be reviewed and trusted again by a second person",
            material.join(", ")
        ));
        row.status_changed_by = Some(actor.sub.clone());
        row.status_changed_at = Some(row.updated_at.clone());
    }
    store::save(conn, &row)?;
    record(conn, &actor.actor(), action::PARTY_UPDATED, &row)?;
    Ok(row)
}

/// Sets the transfer-law facts. Clearing `us_dsp_covered` or `pipl_restricted` needs a
/// different principal from the one who set it (four eyes).
fn apply_facts(row: &mut PartyRow, by: &str, f: Facts) -> Result<(), DomainError> {
    if let Some(p) = f.principal_place_of_business {
        row.principal_place_of_business = Some(p);
    }
    if row.principal_place_of_business.is_none() {
        row.principal_place_of_business = row.country;
    }
    if let Some(o) = f.ownership {
        row.ownership = o.into();
    }
    if let Some(v) = f.dpf_certified_until {
        row.dpf_certified_until = v;
    }
    for (flag, setter, value) in [
        (
            &mut row.us_dsp_covered,
            &mut row.us_dsp_covered_by,
            f.us_dsp_covered,
        ),
        (
            &mut row.pipl_restricted,
            &mut row.pipl_restricted_by,
            f.pipl_restricted,
        ),
    ] {
        match value {
            Some(true) if !*flag => {
                *flag = true;
                *setter = Some(by.to_owned());
            }
            Some(false) if *flag => {
                if setter.as_deref() == Some(by) {
                    return Err(DomainError::NotPermitted(
                        "A restriction is cleared by someone other than the person who set it."
                            .into(),
                    ));
                }
                *flag = false;
                *setter = None;
            }
            _ => {}
        }
    }
    Ok(())
}

fn apply(row: &mut PartyRow, c: Changes) {
    if let Some(kind) = c.kind {
        row.kind = kind;
    }
    if let Some(v) = c.legal_name {
        row.legal_name = v;
    }
    if let Some(country) = c.country {
        row.region = Some(Region::of(country.as_str()));
        row.country = Some(country);
    }
    if let Some(v) = c.data_locations {
        row.data_locations = v.into();
    }
    if let Some(v) = c.privacy_policy_url {
        row.privacy_policy_url = v;
    }
    if let Some(v) = c.contact_email {
        row.contact_email = v;
    }
    if let Some(v) = c.contract_reference {
        row.contract_reference = v;
    }
    if let Some(v) = c.risk_tier {
        row.risk_tier = v;
    }
    if let Some(v) = c.next_review_due {
        row.next_review_due = v;
    }
    if let Some(v) = c.external_ref {
        row.external_ref = v;
    }
    if let Some(v) = c.declared_purposes {
        row.declared_purposes = v.into();
    }
    if let Some(v) = c.declared_categories {
        row.declared_categories = v.into();
    }
}
