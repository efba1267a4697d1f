//! `GET /v1/audit/events` and `GET /v1/audit/verify`.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::chain::{Verifier, VerifyReport};
use super::{Entry, list};
use crate::AppState;
use crate::auth::{AuditRead, Auth};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::pagination::{Page, PageRequest};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only entries with a greater `seq`.
    after_seq: Option<i64>,
    /// Only entries with this action, e.g. `party.created`.
    action: Option<String>,
    /// Only entries about this subject, e.g. `party:<id>`.
    subject: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List ledger entries, oldest first.
///
/// Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    params(EventsQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "auditor"]))),
    responses((status = 200, description = "A page of entries.", body = Page<Entry>))
)]
#[get("/v1/audit/events")]
pub async fn events(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let after = match &page.after {
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::field("cursor", "is not valid"))?,
        None => 0,
    };
    let after = after.max(q.after_seq.unwrap_or(0));
    let rows = state
        .read(move |conn| {
            list(
                conn,
                after,
                q.action.as_deref(),
                q.subject.as_deref(),
                page.fetch(),
            )
            .map(|rows| page.finish(rows, |r| r.seq.to_string(), |r| r.entry()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Verify the whole ledger.
///
/// Recomputes every entry's hash, checks each links to the one before it and that `seq` has no
/// gap, and that the log reaches the recorded head. Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "auditor"]))),
    responses((status = 200, description = "The verification report.", body = VerifyReport))
)]
#[get("/v1/audit/verify")]
pub async fn verify(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report = state.read(verify_log).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Checks the stored log page by page, so memory stays flat however long it is.
pub fn verify_log(conn: &mut DbConn) -> diesel::QueryResult<VerifyReport> {
    let (head_seq, head_hash, _) = super::head(conn)?;
    let mut verifier = Verifier::default();
    let mut after = 0;
    'pages: loop {
        let rows = list(conn, after, None, None, 1000)?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            if !verifier.push(row) {
                break 'pages;
            }
        }
    }
    verifier.expect_size(head_seq);
    let mut report = verifier.report();
    if report.ok && report.head_seq == head_seq && report.head_hash != head_hash {
        verifier.mark_bad(head_seq.max(1));
        report = verifier.report();
    }
    Ok(report)
}
