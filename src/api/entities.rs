//! The company's exporting entities: register, read (now or as of an instant), change.

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
use super::validators::{AsOfQuery, as_of};
use crate::auth::{AdminOnly, RegisterRead};
use crate::error::DomainError;
use crate::ledger::Subject;
use crate::registry::entities::{self, Entity, EntityRow};
use crate::types::{CountryCode, ServiceKey};

/// A new entity.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"key": "acme-cn", "legal_name": "Acme (Shanghai) Co., Ltd.", "country": "CN", "ciio": false}))]
pub struct NewEntity {
    /// Lowercase letters, digits, `-` and `_`, 1–64 characters.
    pub key: String,
    #[validate(length(min = 1, max = 300))]
    pub legal_name: String,
    #[validate(custom(function = "super::validators::country"))]
    pub country: String,
    /// A PRC critical-information-infrastructure operator; only when `country` is CN.
    #[serde(default)]
    pub ciio: bool,
}

/// Changes to an entity; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"ciio": true}))]
pub struct EntityPatch {
    #[validate(length(min = 1, max = 300))]
    pub legal_name: Option<String>,
    #[validate(custom(function = "super::validators::country"))]
    pub country: Option<String>,
    pub ciio: Option<bool>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn entity_response(row: EntityRow, status: StatusCode, location: Option<String>) -> HttpResponse {
    versioned(status, row.version, location, &Entity::from(row))
}

fn country(field: &str, code: &str) -> Result<CountryCode, DomainError> {
    CountryCode::parse(code)
        .ok_or_else(|| DomainError::field(field, "must be an ISO 3166-1 alpha-2 code"))
}

/// List the company's entities, by key.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_entities",
    tag = "transfers",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "A page of entities.", body = Page<Entity>))
)]
#[get("/v1/entities")]
pub async fn list(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let result = state
        .read(move |conn| {
            entities::page(conn, page.after.as_deref(), page.fetch())
                .map(|rows| page.finish(rows, |r| r.key.to_string(), Entity::from))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get an entity, now or as it was at `as_of`.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "get_entity",
    tag = "transfers",
    params(("key" = String, Path, description = "The entity key."), AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "The entity; `ETag` carries its version.", body = Entity,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/entities/{key}")]
pub async fn get(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    if let Some(at) = as_of(query.as_of.as_deref())? {
        let subject = Subject::Entity(&key).to_string();
        let (mut entity, seq) = state
            .read(move |conn| crate::ledger::store::state_at::<Entity>(conn, &subject, &at))
            .await?
            .ok_or(ApiError::NotFound)?;
        entity.as_of_ledger_seq = Some(seq);
        return Ok(HttpResponse::Ok().json(entity));
    }
    let row = state
        .read(move |conn| entities::find(conn, &key))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(entity_response(row, StatusCode::OK, None))
}

/// Register one of the company's entities.
///
/// `ciio` only when `country` is CN. Roles: admin.
#[utoipa::path(
    operation_id = "create_entity",
    tag = "transfers",
    request_body = NewEntity,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses(
        (status = 201, description = "Created.", body = Entity,
            headers(("Location" = String, description = "The new entity."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "An entity with that key exists.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/entities")]
pub async fn create(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewEntity = body.parse()?;
    let draft = entities::Draft {
        key: ServiceKey::parse(&new.key).ok_or_else(|| {
            ApiError::field("key", "must be 1-64 lowercase letters, digits, - or _")
        })?,
        legal_name: new.legal_name,
        country: country("country", &new.country)?,
        ciio: new.ciio,
    };
    let actor = auth.0;
    let row = state
        .write(move |conn| entities::create(conn, &actor, draft))
        .await?;
    let location = format!("/v1/entities/{}", row.key);
    Ok(entity_response(row, StatusCode::CREATED, Some(location)))
}

/// Change an entity.
///
/// Requires `If-Match`. Roles: admin.
#[utoipa::path(
    operation_id = "update_entity",
    tag = "transfers",
    params(("key" = String, Path, description = "The entity key."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = EntityPatch,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses((status = 200, description = "The updated entity.", body = Entity,
        headers(("ETag" = String, description = "The new version."))))
)]
#[patch("/v1/entities/{key}")]
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
            entities::update(conn, &actor, &key, &if_match.0, || {
                let p: EntityPatch = body.parse()?;
                Ok(entities::Changes {
                    legal_name: p.legal_name,
                    country: p
                        .country
                        .as_deref()
                        .map(|c| country("country", c))
                        .transpose()?,
                    ciio: p.ciio,
                    active: p.active,
                })
            })
        })
        .await?;
    Ok(entity_response(row, StatusCode::OK, None))
}
