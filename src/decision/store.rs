//! The `sharing_requests` table: what the decision list and filters need, and each decision's
//! stored answer.

use diesel::prelude::*;

use super::engine::Outcome;
use crate::db::DbConn;
use crate::schema::sharing_requests;

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = sharing_requests)]
pub struct Row {
    pub id: String,
    pub service: String,
    pub party_id: String,
    pub outcome: Outcome,
    pub decided_at: String,
    pub ledger_seq: i64,
    pub body: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
}

/// The decision a service made earlier with this idempotency key.
pub fn by_idempotency_key(conn: &mut DbConn, service: &str, key: &str) -> QueryResult<Option<Row>> {
    sharing_requests::table
        .filter(sharing_requests::service.eq(service))
        .filter(sharing_requests::idempotency_key.eq(key))
        .select(Row::as_select())
        .first(conn)
        .optional()
}

/// Writes the rows of a batch, a few statements for all of them.
pub fn insert_all(conn: &mut DbConn, rows: &[Row]) -> QueryResult<()> {
    crate::db::insert_in_chunks!(conn, sharing_requests::table, rows);
    Ok(())
}

/// Filters of the decision list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub service: Option<String>,
    pub party_id: Option<String>,
    pub outcome: Option<Outcome>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The decisions passing `filter`, as a query to order and page.
fn filtered(filter: &Filter) -> sharing_requests::BoxedQuery<'static, crate::db::MultiBackend> {
    let mut q = sharing_requests::table.into_boxed();
    if let Some(s) = &filter.service {
        q = q.filter(sharing_requests::service.eq(s.clone()));
    }
    if let Some(p) = &filter.party_id {
        q = q.filter(sharing_requests::party_id.eq(p.clone()));
    }
    if let Some(o) = filter.outcome {
        q = q.filter(sharing_requests::outcome.eq(o.as_str()));
    }
    if let Some(f) = &filter.from {
        q = q.filter(sharing_requests::decided_at.ge(f.clone()));
    }
    if let Some(t) = &filter.to {
        q = q.filter(sharing_requests::decided_at.lt(t.clone()));
    }
    q
}

/// Decisions passing `filter` with an id after `after`, oldest first, at most `limit`.
pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Row>> {
    let mut q = filtered(filter);
    if let Some(a) = after {
        q = q.filter(sharing_requests::id.gt(a.to_owned()));
    }
    q.order(sharing_requests::id.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
}

/// Decisions passing `filter` with an id before `before`, newest first, at most `limit`.
pub fn latest(
    conn: &mut DbConn,
    filter: &Filter,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Row>> {
    let mut q = filtered(filter);
    if let Some(b) = before {
        q = q.filter(sharing_requests::id.lt(b.to_owned()));
    }
    q.order(sharing_requests::id.desc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Row>> {
    sharing_requests::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
}

/// The latest decisions that carry advisories (recorded under `report` enforcement): the ones
/// enforcement would have denied. Newest first.
pub fn with_advisories(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Row>> {
    sharing_requests::table
        .filter(sharing_requests::body.like("%\"advisories\":[{%"))
        .order(sharing_requests::id.desc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
}
