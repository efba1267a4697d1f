//! A party's sub-processors: the registered parties it passes data on to (GDPR Art. 28(2) and
//! (4), PIPL Art. 21). A share to the party is judged on the whole route: each sub-processor
//! that receives the share's categories for its service must be trusted, authorised and
//! declared where it processes them, and pass the transfer checks of its hop
//! (docs/TRANSFERS.md "Onward transfers").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PartyRow, PartyStatus, commands::record, store};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected, FieldError};
use crate::ledger::action;
use crate::taxonomy::{Part, store::check_known};

/// A party that the party passes data on to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"party_id": "0193a0c4-8888-7cc0-9d2a-0c1b2a3d4e5f",
    "categories": ["user.contact"], "services": ["newsletter"], "countries": ["IE"],
    "authorised_on": "2026-11-01", "objection_deadline": "2026-10-31"}))]
pub struct SubProcessor {
    /// The registered party the data is passed on to (not the party itself).
    pub party_id: String,
    /// The categories it receives (taxonomy keys): a share's category goes to it when either
    /// covers the other.
    pub categories: Vec<String>,
    /// The services whose data it receives (keys); empty: every service's.
    #[serde(default)]
    pub services: Vec<String>,
    /// Where it processes that data (ISO 3166-1 alpha-2): each hop is judged as a transfer.
    pub countries: Vec<String>,
    /// From this date (`YYYY-MM-DD`, UTC) the company authorises it; null: announced, not
    /// authorised yet — a share it would receive is denied (`sub_processor_not_authorised`).
    #[serde(default)]
    pub authorised_on: Option<String>,
    /// The last day (`YYYY-MM-DD`) to object to the change notice that announced it; listed
    /// by `GET /v1/reminders` while it is ahead.
    #[serde(default)]
    pub objection_deadline: Option<String>,
}

impl SubProcessor {
    /// Whether a share of `category` for `service` goes on to it.
    pub fn receives(&self, service: &str, category: &str) -> bool {
        (self.services.is_empty() || self.services.iter().any(|s| s == service))
            && self.categories.iter().any(|c| overlaps(c, category))
    }
}

/// Checks what only the register knows: each sub-processor a registered party other than this
/// one, listed once, with known categories and services.
fn check(conn: &mut DbConn, party: &PartyRow, list: &[SubProcessor]) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let field = |name: &str| format!("sub_processors[{i}].{name}");
        if s.party_id == party.id {
            errors.push(FieldError::new(field("party_id"), "is the party itself"));
        } else if list[..i].iter().any(|o| o.party_id == s.party_id) {
            errors.push(FieldError::new(field("party_id"), "is listed twice"));
        } else if store::find(conn, &s.party_id)?.is_none() {
            errors.push(FieldError::new(
                field("party_id"),
                "is not a registered party",
            ));
        }
        match check_known(conn, Part::Categories, &field("categories"), &s.categories) {
            Err(DomainError::Invalid(e)) => errors.extend(e),
            other => other?,
        }
        for (j, key) in s.services.iter().enumerate() {
            if crate::registry::services::store::find(conn, key)?.is_none() {
                errors.push(FieldError::new(
                    format!("sub_processors[{i}].services[{j}]"),
                    "is not a registered service",
                ));
            }
        }
    }
    crate::error::collect(errors)
}

/// Replaces a party's sub-processors at the version `expected`. Adding one to a reviewed party
/// widens where its data goes: not for its registrant alone (four eyes). An offboarded party
/// cannot be changed.
pub fn replace(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    list: impl FnOnce() -> Result<Vec<SubProcessor>, DomainError>,
) -> Result<PartyRow, DomainError> {
    let mut row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let list = list()?;
    if row.status == PartyStatus::Offboarded {
        return Err(DomainError::Conflict(
            "An offboarded party cannot be changed.".into(),
        ));
    }
    check(conn, &row, &list)?;
    let widens =
        list.iter().any(
            |s| match row.sub_processors.iter().find(|o| o.party_id == s.party_id) {
                None => true,
                Some(o) => {
                    s.categories.iter().any(|c| !o.categories.contains(c))
                        || s.countries.iter().any(|c| !o.countries.contains(c))
                        || (!o.services.is_empty()
                            && s.services.iter().any(|c| !o.services.contains(c)))
                        || (!o.services.is_empty() && s.services.is_empty())
                }
            },
        );
    if widens {
        row.four_eyes(&actor.sub, "add a sub-processor or widen what one receives")?;
    }
    row.sub_processors = list.into();
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    store::save(conn, &row)?;
    record(
        conn,
        &actor.actor(),
        action::PARTY_SUB_PROCESSORS_CHANGED,
        &row,
    )?;
    Ok(row)
}

pub(crate) fn overlaps(a: &str, b: &str) -> bool {
    crate::taxonomy::covers(a, b) || crate::taxonomy::covers(b, a)
}
