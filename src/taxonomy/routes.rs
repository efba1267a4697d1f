//! Taxonomy endpoints: read for every role, extend for admins.

use actix_web::{HttpResponse, get, http::header, post, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::AppState;
use crate::auth::{AdminOnly, AnyRole, Auth};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::pagination::{Page, PageRequest};
use crate::schema::{taxonomy_categories, taxonomy_purposes};
use crate::taxonomy::{is_well_formed, parent_of};

/// A data category.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Insertable, Selectable)]
#[diesel(table_name = taxonomy_categories)]
#[schema(example = json!({"key": "user.contact.email", "name": "Email", "description": "User's email address.",
    "parent": "user.contact", "pii": true, "linkable": false, "created_at": "2026-11-29T10:00:00.000000Z"}))]
pub struct Category {
    /// Dotted key; covers itself and its descendants.
    pub key: String,
    pub name: String,
    pub description: String,
    /// The parent key; null for a root.
    pub parent: Option<String>,
    /// Personal data: sharing it always needs a grant.
    pub pii: bool,
    /// Not PII alone, but treated as PII when sent together with PII (cookies, device ids,
    /// browsing history).
    pub linkable: bool,
    pub created_at: String,
}

/// A purpose (data use).
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Insertable, Selectable)]
#[diesel(table_name = taxonomy_purposes)]
#[schema(example = json!({"key": "third_party_sharing.sale", "name": "Sale of Personal Data",
    "description": "Selling personal data.", "parent": "third_party_sharing", "prohibited": true,
    "created_at": "2026-11-29T10:00:00.000000Z"}))]
pub struct Purpose {
    /// Dotted key; a service declared for a purpose may use its descendants too.
    pub key: String,
    pub name: String,
    pub description: String,
    pub parent: Option<String>,
    /// Forbidden by the privacy policy (sale, rental): no grant can allow it.
    pub prohibited: bool,
    pub created_at: String,
}

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

fn check_key(key: &str, parent: &str) -> Result<(), ApiError> {
    if !is_well_formed(key) {
        return Err(ApiError::field(
            "key",
            "must be dot-separated segments of lowercase letters, digits and underscores",
        ));
    }
    if parent_of(key) != Some(parent) {
        return Err(ApiError::field(
            "key",
            "must be the parent key plus one more segment",
        ));
    }
    Ok(())
}

/// List data categories, by key.
///
/// Roles: any.
#[utoipa::path(
    tag = "taxonomy",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement", "service", "auditor"]))),
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
            let mut q = taxonomy_categories::table.into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(taxonomy_categories::key.gt(after.clone()));
            }
            q.order(taxonomy_categories::key.asc())
                .limit(page.fetch())
                .select(Category::as_select())
                .load(conn)
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
    extensions(("x-roles" = json!(["admin", "procurement", "service", "auditor"]))),
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
            let mut q = taxonomy_purposes::table.into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(taxonomy_purposes::key.gt(after.clone()));
            }
            q.order(taxonomy_purposes::key.asc())
                .limit(page.fetch())
                .select(Purpose::as_select())
                .load(conn)
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
    extensions(("x-roles" = json!(["admin"]))),
    responses(
        (status = 201, description = "Created.", body = Category),
        (status = 409, description = "The key exists already.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/taxonomy/categories")]
pub async fn create_category(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewCategory = body.parse()?;
    check_key(&new.key, &new.parent)?;
    let actor = auth.0.actor();
    let created = state
        .write(move |conn| {
            let parent: Option<Category> = taxonomy_categories::table
                .find(&new.parent)
                .select(Category::as_select())
                .first(conn)
                .optional()?;
            let parent = parent.ok_or_else(|| ApiError::field("parent", "no such category"))?;
            if new.pii == Some(false) && parent.pii {
                return Err(ApiError::field("pii", "cannot be false under a PII parent"));
            }
            if new.linkable == Some(false) && parent.linkable {
                return Err(ApiError::field(
                    "linkable",
                    "cannot be false under a linkable parent",
                ));
            }
            let pii = new.pii.unwrap_or(false) || parent.pii;
            let category = Category {
                linkable: !pii && (new.linkable.unwrap_or(false) || parent.linkable),
                pii,
                key: new.key,
                name: new.name,
                description: new.description,
                parent: Some(new.parent),
                created_at: crate::time::format(crate::time::now()),
            };
            diesel::insert_into(taxonomy_categories::table)
                .values(&category)
                .execute(conn)?;
            let change = serde_json::to_value(&category)?;
            let subject = format!("category:{}", category.key);
            crate::ledger::append(conn, &actor, "category.created", &subject, &change, true)?;
            Ok(category)
        })
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
    extensions(("x-roles" = json!(["admin"]))),
    responses(
        (status = 201, description = "Created.", body = Purpose),
        (status = 409, description = "The key exists already.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/taxonomy/purposes")]
pub async fn create_purpose(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewPurpose = body.parse()?;
    check_key(&new.key, &new.parent)?;
    let actor = auth.0.actor();
    let created = state
        .write(move |conn| {
            let parent: Option<Purpose> = taxonomy_purposes::table
                .find(&new.parent)
                .select(Purpose::as_select())
                .first(conn)
                .optional()?;
            let parent = parent.ok_or_else(|| ApiError::field("parent", "no such purpose"))?;
            if new.prohibited == Some(false) && parent.prohibited {
                return Err(ApiError::field(
                    "prohibited",
                    "cannot be false under a prohibited parent",
                ));
            }
            let purpose = Purpose {
                prohibited: new.prohibited.unwrap_or(false) || parent.prohibited,
                key: new.key,
                name: new.name,
                description: new.description,
                parent: Some(new.parent),
                created_at: crate::time::format(crate::time::now()),
            };
            diesel::insert_into(taxonomy_purposes::table)
                .values(&purpose)
                .execute(conn)?;
            let change = serde_json::to_value(&purpose)?;
            let subject = format!("purpose:{}", purpose.key);
            crate::ledger::append(conn, &actor, "purpose.created", &subject, &change, true)?;
            Ok(purpose)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/v1/taxonomy/purposes"))
        .json(created))
}

/// Loads every category key with its effective marks (for validation and decisions).
pub fn all_categories(conn: &mut crate::db::DbConn) -> QueryResult<Vec<Category>> {
    taxonomy_categories::table
        .select(Category::as_select())
        .load(conn)
}

/// Loads every purpose.
pub fn all_purposes(conn: &mut crate::db::DbConn) -> QueryResult<Vec<Purpose>> {
    taxonomy_purposes::table
        .select(Purpose::as_select())
        .load(conn)
}
