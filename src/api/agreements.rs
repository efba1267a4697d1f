//! Agreements: record one for a party, read (now or as of an instant), change, withdraw.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::{IfMatch, JsonBody, versioned};
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use super::validators::{as_of, gather, nullable};
use crate::auth::{RegisterRead, RegisterWrite};
use crate::error::{DomainError, FieldError};
use crate::ledger::Subject;
use crate::registry::agreements::{self, Agreement, AgreementRow, commands, is_sha256_hex, store};
use crate::transfers::AgreementKind;

/// A new agreement with the party in the path.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"exporter": "acme-cn", "kind": "pipl_standard_contract", "reference": "SC-2026-014",
    "signed_on": "2026-03-01", "valid_from": "2026-03-01T00:00:00Z", "filing_reference": "FILING-2026-0042",
    "pipia_reference": "PIPIA-2026-07"}))]
pub struct NewAgreement {
    /// The company's entity that exports under it.
    #[validate(length(min = 1, max = 100))]
    pub exporter: String,
    pub kind: AgreementKind,
    #[validate(length(min = 1, max = 200))]
    pub reference: String,
    #[validate(custom(function = "super::validators::date"))]
    pub signed_on: Option<String>,
    /// RFC 3339; for a CAC assessment, its issue date.
    pub valid_from: String,
    /// RFC 3339, after `valid_from`; absent for open-ended.
    pub valid_until: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub filing_reference: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub pipia_reference: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub tia_reference: Option<String>,
    /// 64 lowercase hex digits.
    pub document_sha256: Option<String>,
}

impl NewAgreement {
    /// The draft, its instants normalised; every field error at once.
    pub fn into_draft(self) -> Result<agreements::Draft, DomainError> {
        let n = self;
        let (from, until) = (
            super::validators::stamp("valid_from", &n.valid_from),
            super::validators::optional_stamp("valid_until", n.valid_until.as_deref()),
        );
        gather(vec![
            from.clone().map(|_| ()),
            until.clone().map(|_| ()),
            check_sha(n.document_sha256.as_deref()),
        ])?;
        Ok(agreements::Draft {
            exporter: n.exporter,
            kind: n.kind,
            reference: n.reference,
            signed_on: n.signed_on,
            valid_from: from.map_err(|e| DomainError::Invalid(vec![e]))?,
            valid_until: until.map_err(|e| DomainError::Invalid(vec![e]))?,
            filing_reference: n.filing_reference,
            pipia_reference: n.pipia_reference,
            tia_reference: n.tia_reference,
            document_sha256: n.document_sha256,
        })
    }
}

/// Changes to an agreement; absent fields stay, null clears an optional one. Party, exporter
/// and kind never change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"filing_reference": "FILING-2026-0042"}))]
pub struct AgreementPatch {
    #[validate(length(min = 1, max = 200))]
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub signed_on: Option<Option<String>>,
    pub valid_from: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub valid_until: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub filing_reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub pipia_reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tia_reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub document_sha256: Option<Option<String>>,
}

/// A withdrawal.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"reason": "Superseded by SC-2027-003."}))]
pub struct Withdrawal {
    /// Why the agreement is withdrawn.
    #[validate(length(min = 1, max = 1000))]
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Answer what the register said at this instant (RFC 3339); then no paging.
    as_of: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn response(row: AgreementRow, status: StatusCode, location: Option<String>) -> HttpResponse {
    versioned(status, row.version, location, &Agreement::from(row))
}

fn check_sha(value: Option<&str>) -> Result<(), FieldError> {
    match value {
        Some(v) if !is_sha256_hex(v) => Err(FieldError::new(
            "document_sha256",
            "must be 64 lowercase hex digits",
        )),
        _ => Ok(()),
    }
}

/// The state of one agreement at `at`, from its last ledger entry.
fn as_it_was(
    conn: &mut crate::db::DbConn,
    id: &str,
    at: &str,
) -> Result<Option<Agreement>, DomainError> {
    let subject = Subject::Agreement(id).to_string();
    let found = crate::ledger::store::state_at::<Agreement>(conn, &subject, at)?;
    Ok(found.map(|(mut a, seq)| {
        a.as_of_ledger_seq = Some(seq);
        a
    }))
}

/// List a party's agreements, oldest first (now, or as they were at `as_of`).
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_agreements",
    tag = "transfers",
    params(("id" = String, Path, description = "The party id."), ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "A page of agreements.", body = Page<Agreement>))
)]
#[get("/v1/parties/{id}/agreements")]
pub async fn list(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let party_id = path.into_inner();
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let at = as_of(q.as_of.as_deref())?;
    let result = state
        .read(move |conn| -> Result<Page<Agreement>, DomainError> {
            if crate::registry::parties::store::find(conn, &party_id)?.is_none() {
                return Err(DomainError::NotFound);
            }
            if let Some(at) = at {
                let mut items = Vec::new();
                for row in store::of_party(conn, &party_id, None, None)? {
                    items.extend(as_it_was(conn, &row.id, &at)?);
                }
                return Ok(Page {
                    items,
                    next_cursor: None,
                });
            }
            let rows = store::of_party(conn, &party_id, page.after.as_deref(), Some(page.fetch()))?;
            Ok(page.finish(rows, |r| r.id.clone(), Agreement::from))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get an agreement, now or as it was at `as_of`.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "get_agreement",
    tag = "transfers",
    params(("id" = String, Path, description = "The agreement id."), ("as_of" = Option<String>, Query, description = "An RFC 3339 instant, or a bare date meaning the end of that day, UTC.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "The agreement; `ETag` carries its version.", body = Agreement,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/agreements/{id}")]
pub async fn get(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<super::validators::AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if let Some(at) = as_of(query.as_of())? {
        let found = state.read(move |conn| as_it_was(conn, &id, &at)).await?;
        return Ok(HttpResponse::Ok().json(found.ok_or(ApiError::NotFound)?));
    }
    let row = state
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(response(row, StatusCode::OK, None))
}

/// Record an agreement with a party.
///
/// Evidence, not a label: its exporter, validity and references decide whether it backs a
/// share. The exporter must be a registered entity; `eu_bcr` only for affiliates; a CAC
/// assessment runs three years at most. Roles: admin, procurement.
#[utoipa::path(
    operation_id = "create_agreement",
    tag = "transfers",
    params(("id" = String, Path, description = "The party id.")),
    request_body = NewAgreement,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 201, description = "Recorded.", body = Agreement,
            headers(("Location" = String, description = "The new agreement."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "The party is offboarded.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/parties/{id}/agreements")]
pub async fn create(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let party_id = path.into_inner();
    let actor = auth.0;
    let row = state
        .write(move |conn| {
            commands::create(conn, &actor, &party_id, || {
                body.parse::<NewAgreement>()?.into_draft()
            })
        })
        .await?;
    let location = format!("/v1/agreements/{}", row.id);
    Ok(response(row, StatusCode::CREATED, Some(location)))
}

/// Change an agreement.
///
/// Requires `If-Match`. A withdrawn agreement cannot change (409). Roles: admin, procurement.
#[utoipa::path(
    operation_id = "update_agreement",
    tag = "transfers",
    params(("id" = String, Path, description = "The agreement id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = AgreementPatch,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The updated agreement.", body = Agreement,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "The agreement is withdrawn.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/agreements/{id}")]
pub async fn update(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let actor = auth.0;
    let row = state
        .write(move |conn| {
            commands::update(conn, &actor, &id, &if_match.0, || {
                let p: AgreementPatch = body.parse()?;
                let from = p
                    .valid_from
                    .as_deref()
                    .map(|v| super::validators::stamp("valid_from", v))
                    .transpose();
                let until = match &p.valid_until {
                    Some(Some(v)) => {
                        super::validators::stamp("valid_until", v).map(|v| Some(Some(v)))
                    }
                    Some(None) => Ok(Some(None)),
                    None => Ok(None),
                };
                let sha = check_sha(p.document_sha256.as_ref().and_then(|v| v.as_deref()));
                let signed = match &p.signed_on {
                    Some(Some(d)) if crate::time::parse_date(d).is_none() => {
                        Err(FieldError::new("signed_on", "must be a date as YYYY-MM-DD"))
                    }
                    _ => Ok(()),
                };
                gather(vec![
                    from.clone().map(|_| ()),
                    until.clone().map(|_| ()),
                    sha,
                    signed,
                ])?;
                Ok(agreements::Changes {
                    reference: p.reference,
                    signed_on: p.signed_on,
                    valid_from: from.map_err(|e| DomainError::Invalid(vec![e]))?,
                    valid_until: until.map_err(|e| DomainError::Invalid(vec![e]))?,
                    filing_reference: p.filing_reference,
                    pipia_reference: p.pipia_reference,
                    tia_reference: p.tia_reference,
                    document_sha256: p.document_sha256,
                })
            })
        })
        .await?;
    Ok(response(row, StatusCode::OK, None))
}

/// Withdraw an agreement.
///
/// It backs no share after this returns; grants that list it keep the reference (and are
/// judged without it). Requires `If-Match`. Roles: admin, procurement.
#[utoipa::path(
    operation_id = "withdraw_agreement",
    tag = "transfers",
    params(("id" = String, Path, description = "The agreement id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = Withdrawal,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The withdrawn agreement.", body = Agreement,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "Withdrawn already.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/agreements/{id}/withdraw")]
pub async fn withdraw(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let actor = auth.0;
    let row = state
        .write(move |conn| {
            commands::withdraw(conn, &actor, &id, &if_match.0, || {
                Ok(body.parse::<Withdrawal>()?.reason)
            })
        })
        .await?;
    Ok(response(row, StatusCode::OK, None))
}
