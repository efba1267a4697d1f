//! Internal services: in whose name data is shared, and for which purposes.

use actix_web::{HttpResponse, get, http::header, patch, post, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::{Taxonomy, check_known, check_unique, list_to_text, text_to_list};
use crate::AppState;
use crate::auth::{AdminOnly, Auth, RegisterRead};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::extract::{IfMatch, JsonBody, etag};
use crate::pagination::{Page, PageRequest};
use crate::schema::services;

#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub key: String,
    pub name: String,
    pub description: String,
    pub purposes: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// An internal service in whose name data is shared. A service token's `sub` is its key.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"key": "newsletter", "name": "Newsletter", "description": "Monthly news by email.",
    "purposes": ["marketing.communications.email"], "active": true, "created_at": "2026-11-29T10:00:00.000000Z",
    "updated_at": "2026-11-29T10:00:00.000000Z", "version": 1}))]
pub struct Service {
    /// Lowercase letters, digits, `-` and `_`; the `sub` of the service's tokens.
    pub key: String,
    pub name: String,
    pub description: String,
    /// The purposes it is declared for; each covers its descendants.
    pub purposes: Vec<String>,
    /// An inactive service gets every sharing request denied (`service_inactive`).
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
}

impl From<ServiceRow> for Service {
    fn from(r: ServiceRow) -> Self {
        Service {
            purposes: text_to_list(&r.purposes),
            key: r.key,
            name: r.name,
            description: r.description,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

fn service_key(key: &str) -> Result<(), ValidationError> {
    let ok = !key.is_empty()
        && key.len() <= 100
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && key.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
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
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only active (true) or inactive (false) services.
    active: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub fn find(conn: &mut DbConn, key: &str) -> QueryResult<Option<ServiceRow>> {
    services::table
        .find(key)
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()
}

fn record(
    conn: &mut DbConn,
    actor: &serde_json::Value,
    action: &str,
    row: &ServiceRow,
) -> Result<(), ApiError> {
    let change = serde_json::to_value(Service::from(row.clone()))?;
    crate::ledger::append(
        conn,
        actor,
        action,
        &format!("service:{}", row.key),
        &change,
        true,
    )?;
    Ok(())
}

/// List services, by key.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_services",
    tag = "services",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement", "auditor"]))),
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
    let result = state
        .read(move |conn| {
            let mut query = services::table.into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(services::key.gt(after.clone()));
            }
            if let Some(active) = q.active {
                query = query.filter(services::active.eq(active));
            }
            query
                .order(services::key.asc())
                .limit(page.fetch())
                .select(ServiceRow::as_select())
                .load(conn)
                .map(|rows| page.finish(rows, |r| r.key.clone(), Service::from))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get a service.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "get_service",
    tag = "services",
    params(("key" = String, Path, description = "The service key.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement", "auditor"]))),
    responses((status = 200, description = "The service; `ETag` carries its version.", body = Service,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/services/{key}")]
pub async fn get(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let row = state
        .read(move |conn| find(conn, &key))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Service::from(row)))
}

/// Register an internal service.
///
/// Roles: admin.
#[utoipa::path(
    operation_id = "create_service",
    tag = "services",
    request_body = NewService,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin"]))),
    responses(
        (status = 201, description = "Created.", body = Service,
            headers(("Location" = String, description = "The new service."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "The key exists already.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/services")]
pub async fn create(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewService = body.parse()?;
    check_unique("purposes", &new.purposes)?;
    let actor = auth.0.actor();
    let row = state
        .write(move |conn| {
            check_known(conn, Taxonomy::Purposes, "purposes", &new.purposes)?;
            if find(conn, &new.key)?.is_some() {
                return Err(ApiError::Conflict(
                    "A service with that key exists already.".into(),
                ));
            }
            let now = crate::time::format(crate::time::now());
            let row = ServiceRow {
                key: new.key,
                name: new.name,
                description: new.description,
                purposes: list_to_text(&new.purposes),
                active: new.active,
                created_at: now.clone(),
                updated_at: now,
                version: 1,
            };
            diesel::insert_into(services::table)
                .values(&row)
                .execute(conn)?;
            record(conn, &actor, "service.created", &row)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/services/{}", row.key)))
        .insert_header((header::ETAG, etag(row.version)))
        .json(Service::from(row)))
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
    extensions(("x-roles" = json!(["admin"]))),
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
    let actor = auth.0.actor();
    let row = state
        .write(move |conn| {
            let mut row = find(conn, &key)?.ok_or(ApiError::NotFound)?;
            if_match.require(row.version)?;
            let patch: ServicePatch = body.parse()?;
            if let Some(purposes) = &patch.purposes {
                check_unique("purposes", purposes)?;
                check_known(conn, Taxonomy::Purposes, "purposes", purposes)?;
                row.purposes = list_to_text(purposes);
            }
            if let Some(name) = patch.name {
                row.name = name;
            }
            if let Some(description) = patch.description {
                row.description = description;
            }
            if let Some(active) = patch.active {
                row.active = active;
            }
            row.version += 1;
            row.updated_at = crate::time::format(crate::time::now());
            diesel::update(services::table.find(&row.key))
                .set(&row)
                .execute(conn)?;
            record(conn, &actor, "service.updated", &row)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Service::from(row)))
}
