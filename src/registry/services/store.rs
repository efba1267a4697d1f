//! The `services` table.

use diesel::prelude::*;

use super::ServiceRow;
use crate::db::DbConn;
use crate::schema::services;

pub fn find(conn: &mut DbConn, key: &str) -> QueryResult<Option<ServiceRow>> {
    services::table
        .find(key)
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()
}

/// Every service (for the decision snapshot).
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<ServiceRow>> {
    services::table.select(ServiceRow::as_select()).load(conn)
}

/// Services with a key after `after`, by key, at most `limit`, optionally only (in)active ones.
pub fn list(
    conn: &mut DbConn,
    active: Option<bool>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ServiceRow>> {
    let mut query = services::table.into_boxed();
    if let Some(after) = after {
        query = query.filter(services::key.gt(after.to_owned()));
    }
    if let Some(active) = active {
        query = query.filter(services::active.eq(active));
    }
    query
        .order(services::key.asc())
        .limit(limit)
        .select(ServiceRow::as_select())
        .load(conn)
}

/// The services as the ledger recorded them at the instant `until` (stored form), by key
/// after `after`, at most `limit`, optionally only (in)active ones then; services registered
/// after `until` are left out. Each carries the `seq` of the entry behind it.
pub fn list_as_of(
    conn: &mut DbConn,
    active: Option<bool>,
    after: Option<&str>,
    limit: i64,
    until: &str,
) -> Result<Vec<super::Service>, crate::error::DomainError> {
    let mut keys = services::table.select(services::key).into_boxed();
    if let Some(after) = after {
        keys = keys.filter(services::key.gt(after.to_owned()));
    }
    let keys: Vec<String> = keys.order(services::key.asc()).load(conn)?;
    let subjects: Vec<String> = keys
        .iter()
        .map(|k| crate::ledger::Subject::Service(k).to_string())
        .collect();
    let states = crate::ledger::store::states_in_order::<super::Service>(
        conn,
        &subjects,
        until,
        limit as usize,
        |s| active.is_none_or(|a| s.active == a),
    )?;
    Ok(states
        .into_iter()
        .map(|(mut service, seq)| {
            service.as_of_ledger_seq = Some(seq);
            service
        })
        .collect())
}

pub fn insert(conn: &mut DbConn, row: &ServiceRow) -> QueryResult<()> {
    diesel::insert_into(services::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn save(conn: &mut DbConn, row: &ServiceRow) -> QueryResult<()> {
    diesel::update(services::table.find(&row.key))
        .set(row)
        .execute(conn)
        .map(|_| ())
}
