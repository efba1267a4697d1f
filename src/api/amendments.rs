//! A grant's second life: approval by a second person, and amendment or renewal as a new
//! grant that supersedes the old one once approved.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::{IfMatch, JsonBody};
use super::grants::grant_response;
use super::state::AppState;
use crate::auth::RegisterWrite;
use crate::registry::grants::{Amendment, Grant, commands};
use crate::transfers::Exemption;
use crate::types::Region;

/// Approve a grant: a second person's yes.
///
/// A new grant, and one whose exemptions were widened, is `pending_approval` until a principal
/// other than its `requested_by` approves it; until then decisions report `grant_not_approved`
/// for what it would cover. Find what waits with `GET /v1/grants?effective=pending_approval`.
/// Requires `If-Match`. Roles: admin, procurement.
#[utoipa::path(
    operation_id = "approve_grant",
    tag = "grants",
    params(("id" = String, Path, description = "The grant id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The approved grant.", body = Grant,
            headers(("ETag" = String, description = "The new version."))),
        (status = 403, description = "Four eyes: the principal who asked for the scope cannot approve it.", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already approved, or revoked.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/grants/{id}/approve")]
pub async fn approve(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let actor = auth.0;
    let row = state
        .write(move |conn| commands::approve(conn, &actor, &id, &if_match.0))
        .await?;
    Ok(grant_response(row, StatusCode::OK, None))
}

/// What an amendment or renewal changes; what is absent stays as the grant has it (`null`
/// clears `legal_basis`, `valid_until` or `pipia_reference`).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"allowed_regions": ["US", "OTHER"], "valid_until": "2028-12-01T00:00:00Z"}))]
pub struct GrantAmendment {
    /// Category keys of the taxonomy; each covers its descendants.
    #[validate(length(min = 1, max = 200))]
    pub categories: Option<Vec<String>>,
    /// `PRC`, `US`, `OTHER`.
    #[validate(length(min = 1, max = 3))]
    pub allowed_regions: Option<Vec<Region>>,
    #[serde(default, deserialize_with = "super::validators::nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 1000))]
    pub legal_basis: Option<Option<String>>,
    /// RFC 3339; absent keeps the grant's.
    pub valid_from: Option<String>,
    /// RFC 3339, after `valid_from`; `null` is open-ended. A renewal sets this.
    #[serde(default, deserialize_with = "super::validators::nullable")]
    #[schema(value_type = Option<String>)]
    pub valid_until: Option<Option<String>>,
    #[validate(length(max = 50))]
    pub agreements: Option<Vec<String>>,
    pub exemptions: Option<Vec<Exemption>>,
    #[serde(default, deserialize_with = "super::validators::nullable")]
    #[schema(value_type = Option<String>)]
    #[validate(length(min = 1, max = 200))]
    pub pipia_reference: Option<Option<String>>,
    pub separate_consent: Option<bool>,
}

/// Amend or renew a grant.
///
/// Answers a new grant with the changes applied, `supersedes` naming this one and
/// `pending_approval` until a second person approves it; this grant stays in force until
/// then, and is revoked as superseded (`superseded_by`) by that approval — so a renewal leaves
/// no gap. The service is never changed (that is a new grant). Requires `If-Match` (this
/// grant's ETag). Roles: admin, procurement.
#[utoipa::path(
    operation_id = "amend_grant",
    tag = "grants",
    params(("id" = String, Path, description = "The grant id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = GrantAmendment,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 201, description = "The amendment: a new grant waiting for approval.", body = Grant,
            headers(("Location" = String, description = "The new grant."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "Revoked, superseded, or an amendment waits already.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/grants/{id}/amend")]
pub async fn amend(
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
            commands::amend(conn, &actor, &id, &if_match.0, || {
                let a: GrantAmendment = body.parse()?;
                Ok(Amendment {
                    categories: a.categories,
                    allowed_regions: a.allowed_regions,
                    legal_basis: a.legal_basis,
                    valid_from: a.valid_from,
                    valid_until: a.valid_until,
                    agreements: a.agreements,
                    exemptions: a.exemptions,
                    pipia_reference: a.pipia_reference,
                    separate_consent: a.separate_consent,
                })
            })
        })
        .await?;
    let location = format!("/v1/grants/{}", row.id);
    Ok(grant_response(row, StatusCode::CREATED, Some(location)))
}
