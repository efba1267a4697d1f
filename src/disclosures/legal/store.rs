//! The `legal_requests` table: the request as answered (JSON) and the columns the lists filter on.

use diesel::prelude::*;

use super::{Instrument, LegalRequest, LegalStatus};
use crate::db::DbConn;
use crate::decision::engine::Outcome;
use crate::error::DomainError;
use crate::schema::legal_requests;

#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = legal_requests, treat_none_as_null = true)]
pub struct Row {
    pub id: String,
    pub status: LegalStatus,
    pub outcome: Outcome,
    pub authority_country: String,
    pub instrument: Instrument,
    pub received_at: String,
    pub body: String,
    pub created_by: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub version: i64,
}

impl Row {
    pub fn request(&self) -> Result<LegalRequest, DomainError> {
        Ok(serde_json::from_str(&self.body)?)
    }
}

pub fn of(
    request: &LegalRequest,
    idempotency: Option<&super::super::Idempotency>,
) -> Result<Row, DomainError> {
    Ok(Row {
        id: request.id.clone(),
        status: request.status,
        outcome: request.outcome,
        authority_country: request.authority_country.clone(),
        instrument: request.instrument,
        received_at: request.received_at.clone(),
        body: serde_json::to_string(request)?,
        created_by: request.created_by.clone(),
        idempotency_key: idempotency.map(|i| i.key.clone()),
        request_hash: idempotency.map(|i| i.request_hash.clone()),
        version: request.version,
    })
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Row>> {
    legal_requests::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
}

pub fn by_idempotency_key(conn: &mut DbConn, by: &str, key: &str) -> QueryResult<Option<Row>> {
    legal_requests::table
        .filter(legal_requests::created_by.eq(by))
        .filter(legal_requests::idempotency_key.eq(key))
        .select(Row::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &Row) -> QueryResult<()> {
    diesel::insert_into(legal_requests::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Saves the request's changing columns (the idempotency key stays as filed).
pub fn save(conn: &mut DbConn, request: &LegalRequest) -> Result<(), DomainError> {
    diesel::update(legal_requests::table.find(&request.id))
        .set((
            legal_requests::status.eq(request.status),
            legal_requests::outcome.eq(request.outcome),
            legal_requests::body.eq(serde_json::to_string(request)?),
            legal_requests::version.eq(request.version),
        ))
        .execute(conn)?;
    Ok(())
}

/// Filters of the list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<LegalStatus>,
    pub authority_country: Option<String>,
    /// `received_at` from (inclusive) and to (exclusive).
    pub from: Option<String>,
    pub to: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<&str>,
    limit: Option<i64>,
) -> QueryResult<Vec<Row>> {
    let mut q = legal_requests::table.into_boxed();
    if let Some(a) = after {
        q = q.filter(legal_requests::id.gt(a.to_owned()));
    }
    if let Some(s) = filter.status {
        q = q.filter(legal_requests::status.eq(s));
    }
    if let Some(c) = &filter.authority_country {
        q = q.filter(legal_requests::authority_country.eq(c.clone()));
    }
    if let Some(f) = &filter.from {
        q = q.filter(legal_requests::received_at.ge(f.clone()));
    }
    if let Some(t) = &filter.to {
        q = q.filter(legal_requests::received_at.lt(t.clone()));
    }
    if let Some(l) = limit {
        q = q.limit(l);
    }
    q.order(legal_requests::id.asc())
        .select(Row::as_select())
        .load(conn)
}
