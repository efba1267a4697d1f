//! Taxonomy endpoints: read for every role, extend for admins.

use actix_web::{HttpResponse, get, http::header, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::{IfMatch, JsonBody, versioned};
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use crate::auth::{AdminOnly, AnyRole};
use crate::error::DomainError;
use crate::taxonomy::{Category, Purpose, commands, marks, store};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Answer what the taxonomy held at this instant (RFC 3339, or a bare date meaning the end
    /// of that day, UTC): each key as its last ledger entry up to then recorded it, with
    /// `as_of_ledger_seq`; keys added later are left out.
    as_of: Option<String>,
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

/// List data categories, by key (now, or as they were at `as_of`).
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
    if let Some(at) = super::validators::as_of(query.as_of.as_deref())? {
        return super::taxonomy_history::page_as_of::<Category>(&state, "category", page, at).await;
    }
    let result = state
        .read(move |conn| {
            store::category_page(conn, page.after.as_deref(), page.fetch())
                .map(|rows| page.finish(rows, |c| c.key.clone(), |c| c))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// List purposes, by key (now, or as they were at `as_of`).
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
    if let Some(at) = super::validators::as_of(query.as_of.as_deref())? {
        return super::taxonomy_history::page_as_of::<Purpose>(&state, "purpose", page, at).await;
    }
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

/// New transfer-law marks for a category; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"pipl_sensitive": true, "us_dsp_classes": ["financial"]}))]
pub struct CategoryMarksPatch {
    /// Sensitive personal information under PIPL Art. 28.
    pub pipl_sensitive: Option<bool>,
    /// The DSP classes of the key (28 CFR 202.249); `covered_identifier` is never marked.
    pub us_dsp_classes: Option<Vec<crate::transfers::DspClass>>,
}

/// New transfer-law mark for a purpose.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"us_dsp_ancillary": true}))]
pub struct PurposeMarksPatch {
    /// Ancillary to the corporate group's business (28 CFR 202.506).
    pub us_dsp_ancillary: Option<bool>,
}

/// Change a category's transfer-law marks.
///
/// A key's marks are its own and its ancestors': a key cannot clear a mark its parent holds
/// (422), and the change reaches every descendant, one ledger entry per key changed. Requires
/// `If-Match` with the key's `version`. Roles: admin.
#[utoipa::path(
    operation_id = "mark_category",
    tag = "taxonomy",
    params(("key" = String, Path, description = "The category key."),
        ("If-Match" = String, Header, description = "The key's version, quoted.")),
    request_body = CategoryMarksPatch,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses((status = 200, description = "The category with its new marks.", body = Category,
        headers(("ETag" = String, description = "The new version."))))
)]
#[patch("/v1/taxonomy/categories/{key}")]
pub async fn mark_category(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let actor = auth.0.actor();
    let c = state
        .write(move |conn| {
            marks::mark_category(conn, &actor, &key, &if_match.0, || {
                let p: CategoryMarksPatch = body.parse()?;
                if p.us_dsp_classes
                    .as_ref()
                    .is_some_and(|c| c.contains(&crate::transfers::DspClass::CoveredIdentifier))
                {
                    return Err(DomainError::field(
                        "us_dsp_classes",
                        "covered_identifier is a combination of listed identifiers, never a mark",
                    ));
                }
                Ok(marks::CategoryMarks {
                    pipl_sensitive: p.pipl_sensitive,
                    us_dsp_classes: p.us_dsp_classes,
                })
            })
        })
        .await?;
    Ok(versioned(
        actix_web::http::StatusCode::OK,
        c.version,
        None,
        &c,
    ))
}

/// Change a purpose's transfer-law mark.
///
/// A purpose cannot clear a mark its parent holds (422); the change reaches every descendant.
/// Requires `If-Match` with the key's `version`. Roles: admin.
#[utoipa::path(
    operation_id = "mark_purpose",
    tag = "taxonomy",
    params(("key" = String, Path, description = "The purpose key."),
        ("If-Match" = String, Header, description = "The key's version, quoted.")),
    request_body = PurposeMarksPatch,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses((status = 200, description = "The purpose with its new mark.", body = Purpose,
        headers(("ETag" = String, description = "The new version."))))
)]
#[patch("/v1/taxonomy/purposes/{key}")]
pub async fn mark_purpose(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let actor = auth.0.actor();
    let p = state
        .write(move |conn| {
            marks::mark_purpose(conn, &actor, &key, &if_match.0, || {
                Ok(body.parse::<PurposeMarksPatch>()?.us_dsp_ancillary)
            })
        })
        .await?;
    Ok(versioned(
        actix_web::http::StatusCode::OK,
        p.version,
        None,
        &p,
    ))
}

/// Get a category, with its effective marks (now, or as it was at `as_of`).
///
/// Roles: any.
#[utoipa::path(
    operation_id = "get_category",
    tag = "taxonomy",
    params(("key" = String, Path, description = "The category key."), super::validators::AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AnyRole::NAMES))),
    responses((status = 200, description = "The category; `ETag` carries its version. With `as_of`, as the ledger recorded it then, with `as_of_ledger_seq`.", body = Category,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/taxonomy/categories/{key}")]
pub async fn get_category(
    _auth: Auth<AnyRole>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<super::validators::AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    if let Some(at) = super::validators::as_of(query.as_of())? {
        let subject = crate::ledger::Subject::Category(&key).to_string();
        return super::taxonomy_history::as_recorded::<Category>(&state, subject, at).await;
    }
    let c = state
        .read(move |conn| store::find_category(conn, &key))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(versioned(
        actix_web::http::StatusCode::OK,
        c.version,
        None,
        &c,
    ))
}

/// Get a purpose, with its effective marks (now, or as it was at `as_of`).
///
/// Roles: any.
#[utoipa::path(
    operation_id = "get_purpose",
    tag = "taxonomy",
    params(("key" = String, Path, description = "The purpose key."), super::validators::AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AnyRole::NAMES))),
    responses((status = 200, description = "The purpose; `ETag` carries its version. With `as_of`, as the ledger recorded it then, with `as_of_ledger_seq`.", body = Purpose,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/taxonomy/purposes/{key}")]
pub async fn get_purpose(
    _auth: Auth<AnyRole>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<super::validators::AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    if let Some(at) = super::validators::as_of(query.as_of())? {
        let subject = crate::ledger::Subject::Purpose(&key).to_string();
        return super::taxonomy_history::as_recorded::<Purpose>(&state, subject, at).await;
    }
    let p = state
        .read(move |conn| store::find_purpose(conn, &key))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(versioned(
        actix_web::http::StatusCode::OK,
        p.version,
        None,
        &p,
    ))
}
