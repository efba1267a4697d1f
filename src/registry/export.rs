//! The register read whole, a page at a time, for the exports.

use diesel::QueryResult;

use super::agreements::{self, AgreementRow};
use super::grants::{self, GrantRow};
use super::parties::{self, PartyRow};
use crate::db::DbConn;

/// A page of parties after `after`, by id, each with its grants.
pub fn page_with_grants(
    conn: &mut DbConn,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<(PartyRow, Vec<GrantRow>)>> {
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

/// The agreements of a page of parties, by party (for the JSON export).
pub fn agreements_of(
    conn: &mut DbConn,
    party_ids: &[&str],
) -> QueryResult<std::collections::HashMap<String, Vec<AgreementRow>>> {
    agreements::store::of_parties(conn, party_ids)
}
