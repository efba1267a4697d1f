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
