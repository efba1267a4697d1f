//! Internal services: register, read and change them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::auth::Auth;
use super::error::ApiError;
use super::extract::{IfMatch, JsonBody, versioned};
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use crate::auth::{AdminOnly, RegisterRead};
use crate::error::DomainError;
use crate::registry::services::{self, Service, ServiceRow, commands, store};
use crate::types::ServiceKey;

fn service_key(key: &str) -> Result<(), ValidationError> {
    if ServiceKey::parse(key).is_some() {
        Ok(())
    } else {
        Err(ValidationError::new("key").with_message(
            "must be 1-100 lowercase letters, digits, '-' or '_', starting with a letter or digit"
                .into(),
        ))
    }
}

/// A new internal service.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"key": "newsletter", "name": "Newsletter", "description": "Monthly news by email.",
    "purposes": ["marketing.communications.email"]}))]
pub struct NewService {
    #[validate(custom(function = "service_key"))]
    pub key: String,
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 2000))]
    pub description: String,
    /// At least one purpose key of the taxonomy.
    #[validate(length(min = 1, max = 100))]
    pub purposes: Vec<String>,
    /// Defaults to true.
    #[serde(default = "yes")]
    pub active: bool,
    /// The company's entities the service operates for (the exporters of its shares).
    #[validate(length(max = 50))]
    pub entities: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// Changes to a service; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"active": false}))]
pub struct ServicePatch {
    #[validate(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[validate(length(max = 2000))]
    pub description: Option<String>,
    #[validate(length(min = 1, max = 100))]
    pub purposes: Option<Vec<String>>,
    pub active: Option<bool>,
    #[validate(length(max = 50))]
    pub entities: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only active (true) or inactive (false) services (then, with `as_of`).
    active: Option<bool>,
    /// Answer what the register said at this instant (RFC 3339, or a bare date meaning the end
    /// of that day, UTC): each service as its last ledger entry up to then recorded it, with
    /// `as_of_ledger_seq`; services registered later are left out.
    as_of: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn service_response(row: ServiceRow, status: StatusCode, location: Option<String>) -> HttpResponse {
    versioned(status, row.version, location, &Service::from(row))
}

/// List services, by key, now or as they were at `as_of`.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_services",
    tag = "services",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "A page of services.", body = Page<Service>))
)]
#[get("/v1/services")]
pub async fn list(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    if let Some(at) = super::validators::as_of(q.as_of.as_deref())? {
        let result = state
            .read(move |conn| {
                store::list_as_of(conn, q.active, page.after.as_deref(), page.fetch(), &at)
                    .map(|rows| page.finish(rows, |s| s.key.clone(), |s| s))
            })
            .await?;
        return Ok(HttpResponse::Ok().json(result));
    }
    let result = state
        .read(move |conn| {
            store::list(conn, q.active, page.after.as_deref(), page.fetch())
                .map(|rows| page.finish(rows, |r| r.key.to_string(), Service::from))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get a service, now or as it was at `as_of`.
///
/// Roles: admin, procurement, auditor, legal; a service reads its own (another's is a 403).
#[utoipa::path(
    operation_id = "get_service",
    tag = "services",
    params(("key" = String, Path, description = "The service key."), super::validators::AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(crate::auth::ScopeRead::NAMES))),
    responses((status = 200, description = "The service; `ETag` carries its version.", body = Service,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/services/{key}")]
pub async fn get(
    auth: Auth<crate::auth::ScopeRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<super::validators::AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    if !auth.0.may::<crate::auth::RegisterRead>() && key != auth.0.sub {
        return Err(ApiError::Forbidden(
            "A service may read only its own service.".into(),
        ));
    }
    if let Some(at) = super::validators::as_of(query.as_of())? {
        let subject = crate::ledger::Subject::Service(&key).to_string();
        let (mut service, seq) = state
            .read(move |conn| crate::ledger::store::state_at::<Service>(conn, &subject, &at))
            .await?
            .ok_or(ApiError::NotFound)?;
        service.as_of_ledger_seq = Some(seq);
        return Ok(HttpResponse::Ok().json(service));
    }
    let row = state
        .read(move |conn| store::find(conn, &key))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(service_response(row, StatusCode::OK, None))
}

/// Register an internal service.
///
/// Roles: admin.
#[utoipa::path(
    operation_id = "create_service",
    tag = "services",
    request_body = NewService,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses(
        (status = 201, description = "Created.", body = Service,
            headers(("Location" = String, description = "The new service."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "The key exists already.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/services")]
pub async fn create(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewService = body.parse()?;
    let draft = services::Draft {
        key: ServiceKey::parse(&new.key).ok_or_else(|| ApiError::field("key", "is invalid"))?,
        name: new.name,
        description: new.description,
        purposes: new.purposes,
        active: new.active,
        entities: new.entities.unwrap_or_default(),
    };
    let actor = auth.0;
    let row = state
        .write(move |conn| commands::create(conn, &actor, draft))
        .await?;
    let location = format!("/v1/services/{}", row.key);
    Ok(service_response(row, StatusCode::CREATED, Some(location)))
}

/// Change a service.
///
/// Requires `If-Match` with the current `ETag`. Roles: admin.
#[utoipa::path(
    operation_id = "update_service",
    tag = "services",
    params(("key" = String, Path, description = "The service key."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = ServicePatch,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses((status = 200, description = "The updated service.", body = Service,
        headers(("ETag" = String, description = "The new version."))))
)]
#[patch("/v1/services/{key}")]
pub async fn update(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let actor = auth.0;
    let row = state
        .write(move |conn| {
            commands::update(conn, &actor, &key, &if_match.0, || {
                let p: ServicePatch = body.parse()?;
                Ok::<_, DomainError>(services::Changes {
                    name: p.name,
                    description: p.description,
                    purposes: p.purposes,
                    active: p.active,
                    entities: p.entities,
                })
            })
        })
        .await?;
    Ok(service_response(row, StatusCode::OK, None))
}
