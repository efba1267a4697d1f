//! The `agreements` table.

use diesel::prelude::*;

use super::AgreementRow;
use crate::db::DbConn;
use crate::schema::agreements;

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<AgreementRow>> {
    agreements::table
        .find(id)
        .select(AgreementRow::as_select())
        .first(conn)
        .optional()
}

/// A party's agreements, oldest first, after `after`, at most `limit`.
pub fn of_party(
    conn: &mut DbConn,
    party_id: &str,
    after: Option<&str>,
    limit: Option<i64>,
) -> QueryResult<Vec<AgreementRow>> {
    let mut q = agreements::table
        .filter(agreements::party_id.eq(party_id))
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(agreements::id.gt(a.to_owned()));
    }
    if let Some(l) = limit {
        q = q.limit(l);
    }
    q.order(agreements::id.asc())
        .select(AgreementRow::as_select())
        .load(conn)
}

/// Every agreement (for the decision snapshot), oldest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<AgreementRow>> {
    agreements::table
        .order(agreements::id.asc())
        .select(AgreementRow::as_select())
        .load(conn)
}

/// The parties the agreements `ids` belong to.
pub fn owners(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    agreements::table
        .filter(agreements::id.eq_any(ids))
        .select(agreements::party_id)
        .distinct()
        .load(conn)
}

/// Of `ids`, those that are agreements of `party_id`.
pub fn of_party_among(
    conn: &mut DbConn,
    party_id: &str,
    ids: &[String],
) -> QueryResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    agreements::table
        .filter(agreements::party_id.eq(party_id))
        .filter(agreements::id.eq_any(ids))
        .select(agreements::id)
        .load(conn)
}

pub fn insert(conn: &mut DbConn, row: &AgreementRow) -> QueryResult<()> {
    diesel::insert_into(agreements::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn save(conn: &mut DbConn, row: &AgreementRow) -> QueryResult<()> {
    diesel::update(agreements::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// The agreements of these parties, oldest first, by party.
pub fn of_parties(
    conn: &mut DbConn,
    party_ids: &[&str],
) -> QueryResult<std::collections::HashMap<String, Vec<AgreementRow>>> {
    let rows: Vec<AgreementRow> = agreements::table
        .filter(agreements::party_id.eq_any(party_ids))
        .order(agreements::id.asc())
        .select(AgreementRow::as_select())
        .load(conn)?;
    let mut by_party: std::collections::HashMap<String, Vec<AgreementRow>> = Default::default();
    for a in rows {
        by_party.entry(a.party_id.clone()).or_default().push(a);
    }
    Ok(by_party)
}

/// Agreements in force whose `valid_until` falls in `(after, until]` (stored instants).
pub fn expiring(conn: &mut DbConn, after: &str, until: &str) -> QueryResult<Vec<AgreementRow>> {
    agreements::table
        .filter(agreements::status.eq(crate::transfers::AgreementStatus::Active.as_str()))
        .filter(agreements::valid_until.gt(after.to_owned()))
        .filter(agreements::valid_until.le(until.to_owned()))
        .order(agreements::valid_until.asc())
        .select(AgreementRow::as_select())
        .load(conn)
}
