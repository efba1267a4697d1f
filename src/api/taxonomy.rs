//! Taxonomy endpoints: read for every role, extend for admins.

use actix_web::{HttpResponse, get, http::header, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use crate::auth::{AdminOnly, AnyRole};
use crate::taxonomy::{Category, Purpose, commands, store};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A new data category under an existing parent.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"key": "user.contact.messenger_handle", "name": "Messenger handle",
    "description": "A handle on an instant-messaging service.", "parent": "user.contact"}))]
pub struct NewCategory {
    /// `parent` + `.` + one segment of lowercase letters, digits or underscores.
    #[validate(length(min = 1, max = 200))]
    pub key: String,
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 2000))]
    pub description: String,
    /// Must exist. The new key inherits its marks and cannot weaken them.
    pub parent: String,
    /// Defaults to the parent's mark.
    pub pii: Option<bool>,
    /// Defaults to the parent's mark.
    pub linkable: Option<bool>,
}

/// A new purpose under an existing parent.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"key": "marketing.communications.push", "name": "Push notifications",
    "description": "Marketing sent as push notifications.", "parent": "marketing.communications"}))]
pub struct NewPurpose {
    #[validate(length(min = 1, max = 200))]
    pub key: String,
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 2000))]
    pub description: String,
    /// Must exist. A child of a prohibited purpose is prohibited too.
    pub parent: String,
    /// Defaults to the parent's mark.
    pub prohibited: Option<bool>,
}

/// List data categories, by key.
///
/// Roles: any.
#[utoipa::path(
    tag = "taxonomy",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AnyRole::NAMES))),
    responses((status = 200, description = "A page of categories.", body = Page<Category>))
)]
#[get("/v1/taxonomy/categories")]
pub async fn list_categories(
    _auth: Auth<AnyRole>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref())?;
    let result = state
        .read(move |conn| {
            store::category_page(conn, page.after.as_deref(), page.fetch())
                .map(|rows| page.finish(rows, |c| c.key.clone(), |c| c))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// List purposes, by key.
///
/// Roles: any.
#[utoipa::path(
    tag = "taxonomy",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AnyRole::NAMES))),
    responses((status = 200, description = "A page of purposes.", body = Page<Purpose>))
)]
#[get("/v1/taxonomy/purposes")]
pub async fn list_purposes(
    _auth: Auth<AnyRole>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref())?;
    let result = state
        .read(move |conn| {
            store::purpose_page(conn, page.after.as_deref(), page.fetch())
                .map(|rows| page.finish(rows, |c| c.key.clone(), |c| c))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Add a data category.
///
/// The parent must exist; the new key inherits its marks (`pii`, `linkable`) and cannot weaken
/// them. Roles: admin.
#[utoipa::path(
    tag = "taxonomy",
    request_body = NewCategory,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses(
        (status = 201, description = "Created.", body = Category),
        (status = 409, description = "The key exists already.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/taxonomy/categories")]
pub async fn create_category(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewCategory = body.parse()?;
    commands::check_key(&new.key, &new.parent)?;
    let actor = auth.0.actor();
    let new = commands::NewCategory {
        key: new.key,
        name: new.name,
        description: new.description,
        parent: new.parent,
        pii: new.pii,
        linkable: new.linkable,
    };
    let created = state
        .write(move |conn| commands::create_category(conn, &actor, new))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/v1/taxonomy/categories"))
        .json(created))
}

/// Add a purpose.
///
/// The parent must exist; a child of a prohibited purpose is prohibited. Roles: admin.
#[utoipa::path(
    tag = "taxonomy",
    request_body = NewPurpose,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses(
        (status = 201, description = "Created.", body = Purpose),
        (status = 409, description = "The key exists already.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/taxonomy/purposes")]
pub async fn create_purpose(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewPurpose = body.parse()?;
    commands::check_key(&new.key, &new.parent)?;
    let actor = auth.0.actor();
    let new = commands::NewPurpose {
        key: new.key,
        name: new.name,
        description: new.description,
        parent: new.parent,
        prohibited: new.prohibited,
    };
    let created = state
        .write(move |conn| commands::create_purpose(conn, &actor, new))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/v1/taxonomy/purposes"))
        .json(created))
}
