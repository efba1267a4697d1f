//! Grants: party × service × categories, with the regions the data may go to, an optional
//! cross-border transfer mechanism and a validity window. Never deleted; revoked instead.

use actix_web::{HttpResponse, get, http::header, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::country::Region;
use super::parties::{PartyStatus, as_of, serde_plain};
use super::{Taxonomy, check_known, check_unique, list_to_text, text_to_list};
use crate::AppState;
use crate::auth::{Auth, RegisterRead, RegisterWrite};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::extract::{IfMatch, JsonBody, etag};
use crate::pagination::{Page, PageRequest};
use crate::schema::grants;

#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = grants, treat_none_as_null = true)]
pub struct GrantRow {
    pub id: String,
    pub party_id: String,
    pub service: String,
    pub categories: String,
    pub allowed_regions: String,
    pub transfer_mechanism: String,
    pub legal_basis: Option<String>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub status: String,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// The legal mechanism for a cross-border transfer. PRC subjects' data sent outside the PRC
/// needs one of the three PIPL mechanisms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferMechanism {
    /// No mechanism.
    None,
    /// The CAC standard contract under PIPL art. 38(1)(3).
    PiplStandardContract,
    /// A CAC security assessment under PIPL art. 38(1)(1).
    CacSecurityAssessment,
    /// Personal-information-protection certification under PIPL art. 38(1)(2).
    PiplCertification,
}

impl TransferMechanism {
    pub fn is_pipl(self) -> bool {
        !matches!(self, TransferMechanism::None)
    }
}

/// Whether a grant stands: `active` until revoked; grants are never deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Active,
    Revoked,
}

/// What a grant amounts to at the moment it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effective {
    /// Active and within its validity window.
    Active,
    /// Active, but `valid_until` has passed.
    Expired,
    /// Active, but `valid_from` has not come yet.
    NotYetValid,
    /// Revoked.
    Revoked,
}

/// A scope granted to a party.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f",
    "service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["PRC", "US"],
    "transfer_mechanism": "pipl_standard_contract", "legal_basis": "consent, art. 13(1) PIPL",
    "valid_from": "2026-12-01T00:00:00.000000Z", "valid_until": "2027-12-01T00:00:00.000000Z",
    "status": "active", "effective": "active", "revoked_reason": null, "revoked_at": null,
    "created_by": "alice", "created_at": "2026-11-29T10:00:00.000000Z", "version": 1}))]
pub struct Grant {
    pub id: String,
    pub party_id: String,
    /// The internal service in whose name data may be shared.
    pub service: String,
    /// Category keys; each covers its descendants.
    pub categories: Vec<String>,
    /// Regions the data may be sent to (the destination country's region).
    pub allowed_regions: Vec<Region>,
    pub transfer_mechanism: TransferMechanism,
    /// Free text: the legal basis for the sharing.
    pub legal_basis: Option<String>,
    /// Valid from this instant (inclusive).
    pub valid_from: String,
    /// Valid until this instant (exclusive); null is open-ended.
    pub valid_until: Option<String>,
    pub status: GrantStatus,
    /// Computed when read.
    pub effective: Effective,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

impl GrantRow {
    pub fn view(self, now: DateTime<Utc>) -> Grant {
        let status = if self.status == "revoked" {
            GrantStatus::Revoked
        } else {
            GrantStatus::Active
        };
        let effective = effective(status, &self.valid_from, self.valid_until.as_deref(), now);
        Grant {
            categories: text_to_list(&self.categories),
            allowed_regions: text_to_list(&self.allowed_regions)
                .iter()
                .filter_map(|r| Region::parse(r))
                .collect(),
            transfer_mechanism: serde_json::from_value(serde_json::Value::String(
                self.transfer_mechanism.clone(),
            ))
            .unwrap_or(TransferMechanism::None),
            status,
            effective,
            id: self.id,
            party_id: self.party_id,
            service: self.service,
            legal_basis: self.legal_basis,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            revoked_reason: self.revoked_reason,
            revoked_at: self.revoked_at,
            created_by: self.created_by,
            created_at: self.created_at,
            version: self.version,
            as_of_ledger_seq: None,
        }
    }
}

/// `valid_from ≤ now < valid_until`, with no `valid_until` open-ended.
pub fn effective(
    status: GrantStatus,
    from: &str,
    until: Option<&str>,
    now: DateTime<Utc>,
) -> Effective {
    if status == GrantStatus::Revoked {
        return Effective::Revoked;
    }
    let from = crate::time::parse(from);
    if from.is_some_and(|f| now < f) {
        return Effective::NotYetValid;
    }
    if until.and_then(crate::time::parse).is_some_and(|u| now >= u) {
        return Effective::Expired;
    }
    Effective::Active
}

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
    /// Defaults to `none`.
    pub transfer_mechanism: Option<TransferMechanism>,
    #[validate(length(min = 1, max = 1000))]
    pub legal_basis: Option<String>,
    /// RFC 3339; defaults to now.
    pub valid_from: Option<String>,
    /// RFC 3339, after `valid_from`; absent for an open-ended grant.
    pub valid_until: Option<String>,
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

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<GrantRow>> {
    grants::table
        .find(id)
        .select(GrantRow::as_select())
        .first(conn)
        .optional()
}

fn record(
    conn: &mut DbConn,
    actor: &serde_json::Value,
    action: &str,
    row: &GrantRow,
) -> Result<(), ApiError> {
    let mut change = serde_json::to_value(row.clone().view(crate::time::now()))?;
    // `effective` depends on when it is read; the ledger keeps only what was written.
    if let Some(obj) = change.as_object_mut() {
        obj.remove("effective");
    }
    crate::ledger::append(
        conn,
        actor,
        action,
        &format!("grant:{}", row.id),
        &change,
        true,
    )?;
    Ok(())
}

fn revoke(
    conn: &mut DbConn,
    actor: &serde_json::Value,
    mut row: GrantRow,
    reason: Option<String>,
) -> Result<GrantRow, ApiError> {
    let now = crate::time::format(crate::time::now());
    row.status = "revoked".into();
    row.revoked_reason = reason;
    row.revoked_at = Some(now.clone());
    row.updated_at = now;
    row.version += 1;
    diesel::update(grants::table.find(&row.id))
        .set(&row)
        .execute(conn)?;
    record(conn, actor, "grant.revoked", &row)?;
    Ok(row)
}

/// Revokes every active grant of a party, one ledger entry each (offboarding).
pub fn revoke_all(
    conn: &mut DbConn,
    actor: &serde_json::Value,
    party_id: &str,
    reason: &str,
) -> Result<usize, ApiError> {
    let active: Vec<GrantRow> = grants::table
        .filter(grants::party_id.eq(party_id))
        .filter(grants::status.eq("active"))
        .order(grants::id.asc())
        .select(GrantRow::as_select())
        .load(conn)?;
    let n = active.len();
    for row in active {
        revoke(conn, actor, row, Some(reason.to_owned()))?;
    }
    Ok(n)
}

fn grant_response(row: GrantRow, status: actix_web::http::StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(row.version)))
        .json(row.view(crate::time::now()))
}

/// List a party's grants, oldest first (now, or as they were at `as_of`).
///
/// `effective` is computed at the time asked about. Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_grants",
    tag = "grants",
    params(("id" = String, Path, description = "The party id."), ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement", "auditor"]))),
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
        .read(move |conn| -> Result<Page<Grant>, ApiError> {
            let party = super::parties::find(conn, &party_id)?;
            if party.is_none() {
                return Err(ApiError::NotFound);
            }
            let mut query = grants::table
                .filter(grants::party_id.eq(&party_id))
                .into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(grants::id.gt(after.clone()));
            }
            if let Some(service) = &q.service {
                query = query.filter(grants::service.eq(service.clone()));
            }
            if let Some(at) = at {
                // Point in time: each grant as its last ledger entry up to `at` recorded it.
                let when = crate::time::parse(&at).unwrap_or_else(crate::time::now);
                let rows = query
                    .order(grants::id.asc())
                    .select(GrantRow::as_select())
                    .load(conn)?;
                let mut items = Vec::new();
                for row in rows {
                    let history =
                        crate::ledger::subject_history(conn, &format!("grant:{}", row.id), &at)?;
                    if let Some(last) = history.into_iter().last() {
                        let mut g: serde_json::Value = serde_json::from_str(&last.change)?;
                        let status = if g["status"] == "revoked" {
                            GrantStatus::Revoked
                        } else {
                            GrantStatus::Active
                        };
                        let eff = effective(
                            status,
                            g["valid_from"].as_str().unwrap_or(""),
                            g["valid_until"].as_str(),
                            when,
                        );
                        g["effective"] = serde_json::to_value(eff)?;
                        g["as_of_ledger_seq"] = serde_json::json!(last.seq);
                        items.push(serde_json::from_value::<Grant>(g)?);
                    }
                }
                return Ok(Page {
                    items,
                    next_cursor: None,
                });
            }
            let rows = query
                .order(grants::id.asc())
                .limit(page.fetch())
                .select(GrantRow::as_select())
                .load(conn)?;
            let now = crate::time::now();
            Ok(page.finish(rows, |r| r.id.clone(), |r| r.view(now)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get a grant.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "get_grant",
    tag = "grants",
    params(("id" = String, Path, description = "The grant id.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement", "auditor"]))),
    responses((status = 200, description = "The grant; `ETag` carries its version.", body = Grant,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/grants/{id}")]
pub async fn get(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = state
        .read(move |conn| find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(grant_response(row, actix_web::http::StatusCode::OK))
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
    extensions(("x-roles" = json!(["admin", "procurement"]))),
    responses(
        (status = 201, description = "Created.", body = Grant,
            headers(("Location" = String, description = "The new grant."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "The party is offboarded.", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let actor = auth.0.actor();
    let sub = auth.0.sub.clone();
    let row = state
        .write(move |conn| {
            let party = super::parties::find(conn, &party_id)?.ok_or(ApiError::NotFound)?;
            let new: NewGrant = body.parse()?;
            check_unique("categories", &new.categories)?;
            let regions: Vec<String> = new
                .allowed_regions
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect();
            check_unique("allowed_regions", &regions)?;
            let now = crate::time::now();
            let valid_from = match &new.valid_from {
                Some(v) => crate::time::parse(v).ok_or_else(|| {
                    ApiError::field("valid_from", "must be an RFC 3339 timestamp")
                })?,
                None => now,
            };
            let valid_until = match &new.valid_until {
                Some(v) => Some(crate::time::parse(v).ok_or_else(|| {
                    ApiError::field("valid_until", "must be an RFC 3339 timestamp")
                })?),
                None => None,
            };
            if valid_until.is_some_and(|u| u <= valid_from) {
                return Err(ApiError::field("valid_until", "must be after valid_from"));
            }
            check_known(conn, Taxonomy::Categories, "categories", &new.categories)?;
            if super::services::find(conn, &new.service)?.is_none() {
                return Err(ApiError::field("service", "no such service"));
            }
            if party.status == PartyStatus::Offboarded.as_str() {
                return Err(ApiError::Conflict(
                    "An offboarded party gets no new grants.".into(),
                ));
            }
            let stamp = crate::time::format(now);
            let row = GrantRow {
                id: uuid::Uuid::now_v7().to_string(),
                party_id,
                service: new.service,
                categories: list_to_text(&new.categories),
                allowed_regions: list_to_text(&regions),
                transfer_mechanism: serde_plain(
                    &new.transfer_mechanism.unwrap_or(TransferMechanism::None),
                ),
                legal_basis: new.legal_basis,
                valid_from: crate::time::format(valid_from),
                valid_until: valid_until.map(crate::time::format),
                status: "active".into(),
                revoked_reason: None,
                revoked_at: None,
                created_by: sub,
                created_at: stamp.clone(),
                updated_at: stamp,
                version: 1,
            };
            diesel::insert_into(grants::table)
                .values(&row)
                .execute(conn)?;
            record(conn, &actor, "grant.created", &row)?;
            Ok(row)
        })
        .await?;
    let location = format!("/v1/grants/{}", row.id);
    let mut res = grant_response(row, actix_web::http::StatusCode::CREATED);
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(res)
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
    extensions(("x-roles" = json!(["admin", "procurement"]))),
    responses(
        (status = 200, description = "The revoked grant.", body = Grant,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "Already revoked.", body = crate::error::Problem, content_type = "application/problem+json"),
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
    let actor = auth.0.actor();
    let row = state
        .write(move |conn| {
            let row = find(conn, &id)?.ok_or(ApiError::NotFound)?;
            if_match.require(row.version)?;
            let revocation: Revocation = body.parse()?;
            if row.status == "revoked" {
                return Err(ApiError::Conflict("The grant is revoked already.".into()));
            }
            revoke(conn, &actor, row, revocation.reason)
        })
        .await?;
    Ok(grant_response(row, actix_web::http::StatusCode::OK))
}
