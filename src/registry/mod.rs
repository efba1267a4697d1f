//! The register: internal services, parties (vendors and affiliates), and their grants. Each
//! part keeps its model in `mod.rs`, its table in `store.rs` and its changes in
//! `commands.rs`; the party lifecycle (trust, four eyes, suspension, offboarding, withdrawal
//! from an upstream list) has one home, [`lifecycle`].

pub mod grants;
pub mod lifecycle;
pub mod parties;
pub mod services;

use diesel::QueryResult;

use crate::db::DbConn;
use crate::error::DomainError;

/// Invalid input for the first duplicate in a list.
pub fn check_unique<T: PartialEq>(field: &str, items: &[T]) -> Result<(), DomainError> {
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(DomainError::field(
                format!("{field}[{i}]"),
                "is listed twice",
            ));
        }
    }
    Ok(())
}

/// A page of parties after `after`, by id, each with its grants (for the exports).
pub fn page_with_grants(
    conn: &mut DbConn,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<(parties::PartyRow, Vec<grants::GrantRow>)>> {
    let ps = parties::store::list(conn, &parties::store::Filter::default(), Some(after), limit)?;
    let ids: Vec<&str> = ps.iter().map(|p| p.id.as_str()).collect();
    let mut by_party = grants::store::of_parties(conn, &ids)?;
    Ok(ps
        .into_iter()
        .map(|p| {
            let g = by_party.remove(&p.id).unwrap_or_default();
            (p, g)
        })
        .collect())
}
