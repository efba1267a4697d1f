//! Legal-process requests: file one (judged and recorded before the answer), read them (now or
//! as of an instant), move them through their lifecycle, confirm an override, and the yearly
//! transparency report.

mod bodies;

pub use bodies::{Format, LegalStatusChange, ListQuery, NewLegalRequest, ReportQuery};
use bodies::{csv, draft, moved};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::auth::Auth;
use super::error::ApiError;
use super::extract::{IfMatch, JsonBody, versioned};
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use super::validators::{as_of, instant, optional};
use crate::auth::{DisclosureRead, DisclosureWrite};
use crate::disclosures::legal::LegalRequest;
use crate::disclosures::legal::commands::{self};
use crate::disclosures::legal::report::{self, TransparencyReport};
use crate::disclosures::legal::store::{self, Filter};
use crate::disclosures::{Filed, Idempotency};
use crate::error::DomainError;
use crate::ledger::Subject;

fn replayable(filed: Filed<LegalRequest>) -> HttpResponse {
    let (r, replayed) = match filed {
        Filed::New(r) => (r, false),
        Filed::Replayed(r) => (r, true),
    };
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let res = versioned(
        status,
        r.version,
        Some(format!("/v1/legal-requests/{}", r.id)),
        &r,
    );
    if replayed {
        super::sharing::mark_replayed(res)
    } else {
        res
    }
}

/// The idempotency key of a write, with the hash of its body.
pub(super) fn idempotency(
    req: &HttpRequest,
    body: &JsonBody,
) -> Result<Option<Idempotency>, ApiError> {
    Ok(
        super::sharing::idempotency_key(req)?.map(|key| Idempotency {
            key,
            request_hash: crate::ledger::chain::sha256_hex(
                crate::jcs::to_string(&body.0).as_bytes(),
            ),
        }),
    )
}

/// File a legal demand.
///
/// Judged at once against PIPL Art. 41 / DSL Art. 36 (`prc_approval_missing`) and GDPR Art. 48
/// (`international_agreement_missing`), and recorded in the ledger before the answer. With
/// `Idempotency-Key`, the same key and body replay the first answer (200,
/// `Idempotent-Replayed: true`). Unknown categories or exporter are a 422. Roles: legal, admin.
#[utoipa::path(
    operation_id = "create_legal_request",
    tag = "disclosures",
    request_body = NewLegalRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 printable ASCII characters.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureWrite::NAMES))),
    responses(
        (status = 201, description = "Judged and recorded.", body = LegalRequest,
            headers(("Location" = String, description = "The request."), ("ETag" = String, description = "Its version."))),
        (status = 200, description = "A replay of the first answer for this Idempotency-Key.", body = LegalRequest),
    )
)]
#[post("/v1/legal-requests")]
pub async fn create(
    auth: Auth<DisclosureWrite>,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let idem = idempotency(&req, &body)?;
    let actor = auth.0;
    let filed = state
        .write(move |conn| commands::file(conn, &actor, idem, || draft(body.parse()?)))
        .await?;
    Ok(replayable(filed))
}

/// List legal requests, oldest first.
///
/// Roles: legal, admin, auditor.
#[utoipa::path(
    operation_id = "list_legal_requests",
    tag = "disclosures",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureRead::NAMES))),
    responses((status = 200, description = "A page of legal requests.", body = Page<LegalRequest>))
)]
#[get("/v1/legal-requests")]
pub async fn list(
    _auth: Auth<DisclosureRead>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let filter = Filter {
        status: q.status,
        authority_country: optional(
            "authority_country",
            q.authority_country.as_deref(),
            |c| crate::types::CountryCode::parse(c).map(|c| c.as_str().to_owned()),
            "must be an ISO 3166-1 alpha-2 code in upper case",
        )?,
        from: instant("from", q.from.as_deref())?,
        to: instant("to", q.to.as_deref())?,
    };
    let result = state
        .read(move |conn| -> Result<Page<LegalRequest>, DomainError> {
            let rows = store::list(conn, &filter, page.after.as_deref(), Some(page.fetch()))?;
            let rows: Vec<LegalRequest> = rows
                .iter()
                .map(store::Row::request)
                .collect::<Result<_, _>>()?;
            Ok(page.finish(rows, |r| r.id.clone(), |r| r))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get a legal request, now or as it was at `as_of`.
///
/// Roles: legal, admin, auditor.
#[utoipa::path(
    operation_id = "get_legal_request",
    tag = "disclosures",
    params(("id" = String, Path, description = "The request id."), super::validators::AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureRead::NAMES))),
    responses((status = 200, description = "The request; `ETag` carries its version.", body = LegalRequest,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/legal-requests/{id}")]
pub async fn get(
    _auth: Auth<DisclosureRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<super::validators::AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if let Some(at) = as_of(query.as_of())? {
        let found = state
            .read(move |conn| {
                let subject = Subject::LegalRequest(&id).to_string();
                crate::ledger::store::state_at::<LegalRequest>(conn, &subject, &at)
            })
            .await?;
        let (mut r, seq) = found.ok_or(ApiError::NotFound)?;
        r.as_of_ledger_seq = Some(seq);
        return Ok(HttpResponse::Ok().json(r));
    }
    let row = state
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let r = row.request()?;
    Ok(versioned(StatusCode::OK, r.version, None, &r))
}

/// Move a legal request through its lifecycle.
///
/// `approved → disclosed | closed`; `disclosed → subjects_notified | notification_delayed`;
/// `notification_delayed → subjects_notified`; `denied → contested | closed`, or `disclosed`
/// with `override_reason` (which a second principal must confirm); `contested → approved`
/// (with new evidence that passes the gates) `| closed`. Any other move is a 409. Requires
/// `If-Match`. Roles: legal, admin.
#[utoipa::path(
    operation_id = "change_legal_request_status",
    tag = "disclosures",
    params(("id" = String, Path, description = "The request id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = LegalStatusChange,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureWrite::NAMES))),
    responses(
        (status = 200, description = "The request in its new status.", body = LegalRequest,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "Not a move from the current status, or an override awaits confirmation.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/legal-requests/{id}/status")]
pub async fn change_status(
    auth: Auth<DisclosureWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let actor = auth.0;
    let r = state
        .write(move |conn| {
            commands::change_status(conn, &actor, &id, &if_match.0, || moved(body.parse()?))
        })
        .await?;
    Ok(versioned(StatusCode::OK, r.version, None, &r))
}

/// Confirm counsel's override of a denial.
///
/// A different principal from the one who disclosed against the denial (four eyes); both are
/// in the ledger. Requires `If-Match`. Roles: legal, admin.
#[utoipa::path(
    operation_id = "confirm_legal_request_override",
    tag = "disclosures",
    params(("id" = String, Path, description = "The request id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureWrite::NAMES))),
    responses(
        (status = 200, description = "The override confirmed.", body = LegalRequest,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "No override awaits confirmation.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/legal-requests/{id}/confirm-override")]
pub async fn confirm_override(
    auth: Auth<DisclosureWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let actor = auth.0;
    let r = state
        .write(move |conn| commands::confirm_override(conn, &actor, &id, &if_match.0))
        .await?;
    Ok(versioned(StatusCode::OK, r.version, None, &r))
}

/// The transparency report of a year.
///
/// Counts of the requests received in the UTC year by authority country, kind, instrument,
/// outcome and status, and the categories disclosed. National security letters and FISA
/// orders are in none of the counts: they are reported only as a band of 250 starting at 0
/// (50 U.S.C. § 1874). `format=csv` answers `year,dimension,value,count`. Roles: legal,
/// admin, auditor.
#[utoipa::path(
    operation_id = "legal_requests_report",
    tag = "disclosures",
    params(ReportQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureRead::NAMES))),
    responses((status = 200, description = "The report.", content(
        (TransparencyReport = "application/json"),
        (String = "text/csv", example = json!("year,dimension,value,count\r\n2026,requests,all,4\r\n2026,authority_country,US,3\r\n2026,national_security_process,band,0-249\r\n"))
    )))
)]
#[get("/v1/reports/legal-requests")]
pub async fn transparency_report(
    _auth: Auth<DisclosureRead>,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    if !(1970..=9999).contains(&q.year) {
        return Err(ApiError::field("year", "must be between 1970 and 9999"));
    }
    let filter = Filter {
        from: Some(format!("{:04}-01-01T00:00:00.000000Z", q.year)),
        to: Some(format!("{:04}-01-01T00:00:00.000000Z", q.year + 1)),
        ..Filter::default()
    };
    let requests = state
        .read(move |conn| -> Result<Vec<LegalRequest>, DomainError> {
            store::list(conn, &filter, None, None)?
                .iter()
                .map(store::Row::request)
                .collect()
        })
        .await?;
    let r = report::build(q.year, &requests);
    Ok(match q.format {
        Format::Json => HttpResponse::Ok().json(r),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(csv(&r)),
    })
}
