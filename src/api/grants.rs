//! Grants: grant a party a scope, read (now or as of an instant), revoke.

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
use super::validators::as_of;
use crate::auth::{RegisterRead, RegisterWrite};
use crate::db::DbConn;
use crate::error::DomainError;
use crate::ledger::Subject;
use crate::registry::grants::{
    self, Grant, GrantRow, GrantStatus, TransferMechanism, commands, effective, store,
};
use crate::registry::parties;
use crate::transfers::Exemption;
use crate::types::Region;

/// A new grant for the party in the path.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"service": "newsletter", "categories": ["user.contact.email"],
    "allowed_regions": ["PRC", "US"], "transfer_mechanism": "pipl_standard_contract",
    "legal_basis": "consent", "valid_from": "2026-12-01T00:00:00Z", "valid_until": "2027-12-01T00:00:00Z"}))]
pub struct NewGrant {
    /// An existing service key.
    #[validate(length(min = 1, max = 100))]
    pub service: String,
    /// At least one category key of the taxonomy.
    #[validate(length(min = 1, max = 200))]
    pub categories: Vec<String>,
    /// At least one of `PRC`, `US`, `OTHER`.
    #[validate(length(min = 1, max = 3))]
    pub allowed_regions: Vec<Region>,
    /// Read-only since agreements are evidence: only `none` (or absent) is accepted; record an
    /// agreement and list it in `agreements` instead.
    pub transfer_mechanism: Option<TransferMechanism>,
    /// Agreements of this party that back the grant.
    #[validate(length(max = 50))]
    pub agreements: Option<Vec<String>>,
    /// PIPL exemptions shares under this grant may claim.
    pub exemptions: Option<Vec<Exemption>>,
    /// The PIPIA behind the grant (PIPL Art. 55); a share under the PRC regime needs it.
    #[validate(length(min = 1, max = 200))]
    pub pipia_reference: Option<String>,
    /// Separate consent was obtained (PIPL Art. 39); a share under the PRC regime needs it.
    pub separate_consent: Option<bool>,
    #[validate(length(min = 1, max = 1000))]
    pub legal_basis: Option<String>,
    /// RFC 3339; defaults to now.
    pub valid_from: Option<String>,
    /// RFC 3339, after `valid_from`; absent for an open-ended grant.
    pub valid_until: Option<String>,
}

impl NewGrant {
    /// The draft, once the label rule holds.
    pub(crate) fn into_draft(self) -> Result<grants::Draft, DomainError> {
        if self
            .transfer_mechanism
            .is_some_and(|m| m != TransferMechanism::None)
        {
            return Err(DomainError::field(
                "transfer_mechanism",
                "is read-only and not evidence: record the agreement (POST /v1/parties/{id}/agreements) and list it in `agreements`",
            ));
        }
        Ok(grants::Draft {
            service: self.service,
            categories: self.categories,
            allowed_regions: self.allowed_regions,
            transfer_mechanism: self.transfer_mechanism.unwrap_or(TransferMechanism::None),
            legal_basis: self.legal_basis,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            agreements: self.agreements.unwrap_or_default(),
            exemptions: self.exemptions.unwrap_or_default(),
            pipia_reference: self.pipia_reference,
            separate_consent: self.separate_consent.unwrap_or(false),
        })
    }
}

/// Changes to a grant: only the agreements that back it and the exemptions it allows.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"agreements": ["0193a0c7-3333-7cc0-9d2a-0c1b2a3d4e5f"], "exemptions": ["contract_necessity"]}))]
pub struct GrantPatch {
    #[validate(length(max = 50))]
    pub agreements: Option<Vec<String>>,
    pub exemptions: Option<Vec<Exemption>>,
}

/// A revocation.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"reason": "Contract ended."}))]
pub struct Revocation {
    /// Why; kept as `revoked_reason` and in the ledger.
    #[validate(length(max = 1000))]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only grants for this service.
    service: Option<String>,
    /// Answer what the register said at this instant (RFC 3339); then no paging.
    as_of: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) fn grant_response(
    row: GrantRow,
    status: StatusCode,
    location: Option<String>,
) -> HttpResponse {
    versioned(status, row.version, location, &row.view(crate::time::now()))
}

/// Each grant of `rows` as its last ledger entry up to `at` recorded it, `effective` computed at
/// that instant; grants not yet created then are left out.
fn as_they_were(
    conn: &mut DbConn,
    rows: Vec<GrantRow>,
    at: &str,
) -> Result<Vec<Grant>, DomainError> {
    let when = crate::time::parse(at).unwrap_or_else(crate::time::now);
    let mut items = Vec::new();
    for row in rows {
        let subject = Subject::Grant(&row.id).to_string();
        let history = crate::ledger::store::subject_history(conn, &subject, at)?;
        if let Some(last) = history.into_iter().last() {
            let mut g: serde_json::Value = serde_json::from_str(&last.change)?;
            let status = if g["status"] == GrantStatus::Revoked.as_str() {
                GrantStatus::Revoked
            } else {
                GrantStatus::Active
            };
            let approved = crate::registry::grants::approved_in_state(&g);
            if g.get("requested_by").is_none() {
                g["requested_by"] = g["created_by"].clone();
            }
            let eff = effective(
                status,
                approved,
                g["valid_from"].as_str().unwrap_or(""),
                g["valid_until"].as_str(),
                when,
            );
            g["effective"] = serde_json::to_value(eff)?;
            g["as_of_ledger_seq"] = serde_json::json!(last.seq);
            items.push(serde_json::from_value::<Grant>(g)?);
        }
    }
    Ok(items)
}

/// List a party's grants, oldest first (now, or as they were at `as_of`).
///
/// `effective` is computed at the time asked about. Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_grants",
    tag = "grants",
    params(("id" = String, Path, description = "The party id."), ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "A page of grants.", body = Page<Grant>))
)]
#[get("/v1/parties/{id}/grants")]
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
        .read(move |conn| -> Result<Page<Grant>, DomainError> {
            if parties::store::find(conn, &party_id)?.is_none() {
                return Err(DomainError::NotFound);
            }
            let service = q.service.as_deref();
            let after = page.after.as_deref();
            if let Some(at) = at {
                let rows = store::of_party(conn, &party_id, service, after, None)?;
                return Ok(Page {
                    items: as_they_were(conn, rows, &at)?,
                    next_cursor: None,
                });
            }
            let rows = store::of_party(conn, &party_id, service, after, Some(page.fetch()))?;
            let now = crate::time::now();
            Ok(page.finish(rows, |r| r.id.clone(), |r| r.view(now)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get a grant, now or as it was at `as_of`.
///
/// With `as_of`, `effective` is computed at that instant. Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "get_grant",
    tag = "grants",
    params(("id" = String, Path, description = "The grant id."), super::validators::AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "The grant; `ETag` carries its version.", body = Grant,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/grants/{id}")]
pub async fn get(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<super::validators::AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if let Some(at) = as_of(query.as_of())? {
        let then = state
            .read(move |conn| -> Result<Vec<Grant>, DomainError> {
                let rows: Vec<GrantRow> = store::find(conn, &id)?.into_iter().collect();
                as_they_were(conn, rows, &at)
            })
            .await?;
        let grant = then.into_iter().next().ok_or(ApiError::NotFound)?;
        return Ok(HttpResponse::Ok().json(grant));
    }
    let row = state
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(grant_response(row, StatusCode::OK, None))
}

/// Grant a party a scope.
///
/// The service and every category must exist; `valid_until` must follow `valid_from`. An
/// offboarded party gets no new grants (409). Roles: admin, procurement.
#[utoipa::path(
    operation_id = "create_grant",
    tag = "grants",
    params(("id" = String, Path, description = "The party id.")),
    request_body = NewGrant,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 201, description = "Created.", body = Grant,
            headers(("Location" = String, description = "The new grant."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "The party is offboarded.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/parties/{id}/grants")]
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
                body.parse::<NewGrant>()?.into_draft()
            })
        })
        .await?;
    let location = format!("/v1/grants/{}", row.id);
    Ok(grant_response(row, StatusCode::CREATED, Some(location)))
}

/// Revoke a grant.
///
/// Takes effect for every decision answered after this one returns. Requires `If-Match`.
/// Roles: admin, procurement.
#[utoipa::path(
    operation_id = "revoke_grant",
    tag = "grants",
    params(("id" = String, Path, description = "The grant id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = Revocation,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The revoked grant.", body = Grant,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "Already revoked.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/grants/{id}/revoke")]
pub async fn revoke_one(
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
            commands::revoke_one(conn, &actor, &id, &if_match.0, || {
                Ok(body.parse::<Revocation>()?.reason)
            })
        })
        .await?;
    Ok(grant_response(row, StatusCode::OK, None))
}

/// Change the agreements or exemptions of a grant.
///
/// Nothing else of a grant changes in place: amend or renew it for a different scope or window
/// (`POST /v1/grants/{id}/amend`). Requires `If-Match`.
/// Each agreement must be one of the grant's party. An added exemption widens the grant: it
/// waits for approval again (`pending_approval`). Roles: admin, procurement.
#[utoipa::path(
    operation_id = "update_grant",
    tag = "grants",
    params(("id" = String, Path, description = "The grant id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = GrantPatch,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The updated grant.", body = Grant,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "The grant is revoked.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/grants/{id}")]
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
                let patch: GrantPatch = body.parse()?;
                Ok(grants::Changes {
                    agreements: patch.agreements,
                    exemptions: patch.exemptions,
                })
            })
        })
        .await?;
    Ok(grant_response(row, StatusCode::OK, None))
}
