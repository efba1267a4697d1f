//! Parties: vendors (`third_party`) and `affiliate`s, their records and their lifecycle.

use actix_web::{HttpResponse, get, http::header, patch, post, web};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::country::{Region, is_country};
use super::{Taxonomy, check_known, check_unique, list_to_text, text_to_list};
use crate::AppState;
use crate::auth::{Auth, RegisterRead, RegisterWrite};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::extract::{IfMatch, JsonBody, etag};
use crate::pagination::{Page, PageRequest};
use crate::schema::parties;

#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = parties, treat_none_as_null = true)]
pub struct PartyRow {
    pub id: String,
    pub kind: String,
    pub legal_name: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub data_locations: String,
    pub privacy_policy_url: String,
    pub contact_email: String,
    pub contract_reference: Option<String>,
    pub risk_tier: String,
    pub next_review_due: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub external_ref: Option<String>,
    pub declared_purposes: String,
    pub declared_categories: String,
    pub deleted_upstream: bool,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// An outside vendor or one of the company's own affiliates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// An outside vendor.
    ThirdParty,
    /// One of the company's own affiliates.
    Affiliate,
}

/// Procurement's assessment of the party's risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    Low,
    Medium,
    High,
}

/// `pending_review → trusted ⇄ suspended`, and any state `→ offboarded` (final).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyStatus {
    /// Registered, not yet reviewed: receives nothing.
    PendingReview,
    /// Reviewed and approved by someone other than its registrant: may receive what its grants allow.
    Trusted,
    /// Temporarily receives nothing; its grants are kept.
    Suspended,
    /// Final: receives nothing, and all its grants were revoked.
    Offboarded,
}

impl PartyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyStatus::PendingReview => "pending_review",
            PartyStatus::Trusted => "trusted",
            PartyStatus::Suspended => "suspended",
            PartyStatus::Offboarded => "offboarded",
        }
    }

    pub fn parse(s: &str) -> Option<PartyStatus> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// The lifecycle's legal transitions.
    pub fn can_become(self, to: PartyStatus) -> bool {
        use PartyStatus::*;
        matches!(
            (self, to),
            (PendingReview, Trusted)
                | (Trusted, Suspended)
                | (Suspended, Trusted)
                | (PendingReview | Trusted | Suspended, Offboarded)
        )
    }
}

/// A vendor or affiliate that may receive personal data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "kind": "third_party",
    "legal_name": "Acme Mail Ltd", "country": "CN", "region": "PRC", "data_locations": ["CN", "SG"],
    "privacy_policy_url": "https://acme.example/privacy", "contact_email": "dpo@acme.example",
    "contract_reference": "MSA-2026-001", "risk_tier": "medium", "next_review_due": "2027-06-30",
    "status": "trusted", "status_reason": "due diligence complete", "external_ref": null,
    "declared_purposes": [], "declared_categories": [], "created_by": "alice",
    "created_at": "2026-11-29T10:00:00.000000Z", "updated_at": "2026-11-29T11:00:00.000000Z", "version": 2}))]
pub struct Party {
    pub id: String,
    pub kind: PartyKind,
    pub legal_name: String,
    /// Country of establishment (ISO 3166-1 alpha-2); null only for an imported party not yet completed.
    pub country: Option<String>,
    /// Derived from `country`: `PRC` for CN, `US` for US, else `OTHER`.
    pub region: Option<Region>,
    /// Countries where the party stores or processes data (ISO 3166-1 alpha-2).
    pub data_locations: Vec<String>,
    /// An https URL.
    pub privacy_policy_url: String,
    /// The party's business contact (not a data subject).
    pub contact_email: String,
    pub contract_reference: Option<String>,
    pub risk_tier: RiskTier,
    /// The date of the next periodic review (`YYYY-MM-DD`).
    pub next_review_due: Option<String>,
    pub status: PartyStatus,
    /// The reason given with the last status change.
    pub status_reason: Option<String>,
    /// A reference in another system, e.g. `gvl:755` for an IAB vendor.
    pub external_ref: Option<String>,
    /// Purposes the party itself declares (e.g. in the GVL). They grant nothing.
    pub declared_purposes: Vec<String>,
    /// Data categories the party itself declares. They grant nothing.
    pub declared_categories: Vec<String>,
    /// The principal who registered it; it cannot be the one who marks it trusted.
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

impl From<PartyRow> for Party {
    fn from(r: PartyRow) -> Self {
        Party {
            kind: if r.kind == "affiliate" {
                PartyKind::Affiliate
            } else {
                PartyKind::ThirdParty
            },
            region: r.region.as_deref().and_then(Region::parse),
            data_locations: text_to_list(&r.data_locations),
            risk_tier: match r.risk_tier.as_str() {
                "low" => RiskTier::Low,
                "high" => RiskTier::High,
                _ => RiskTier::Medium,
            },
            status: PartyStatus::parse(&r.status).unwrap_or(PartyStatus::PendingReview),
            declared_purposes: text_to_list(&r.declared_purposes),
            declared_categories: text_to_list(&r.declared_categories),
            id: r.id,
            legal_name: r.legal_name,
            country: r.country,
            privacy_policy_url: r.privacy_policy_url,
            contact_email: r.contact_email,
            contract_reference: r.contract_reference,
            next_review_due: r.next_review_due,
            status_reason: r.status_reason,
            external_ref: r.external_ref,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
            as_of_ledger_seq: None,
        }
    }
}

fn countries(codes: &[String]) -> Result<(), ValidationError> {
    if codes.is_empty() {
        return Err(
            ValidationError::new("length").with_message("must list at least one country".into())
        );
    }
    if codes.len() > 249 {
        return Err(ValidationError::new("length").with_message("lists too many countries".into()));
    }
    for (i, c) in codes.iter().enumerate() {
        if !is_country(c) {
            return Err(ValidationError::new("country").with_message(
                format!("item {i} must be an ISO 3166-1 alpha-2 code in upper case").into(),
            ));
        }
        if codes[..i].contains(c) {
            return Err(ValidationError::new("unique")
                .with_message(format!("item {i} is listed twice").into()));
        }
    }
    Ok(())
}

/// True for an absolute https URL with a host.
pub fn is_https_url(s: &str) -> bool {
    s.len() <= 2000
        && url::Url::parse(s)
            .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
}

fn https_url(s: &str) -> Result<(), ValidationError> {
    if is_https_url(s) {
        Ok(())
    } else {
        Err(ValidationError::new("url").with_message("must be an absolute https URL".into()))
    }
}

fn date(s: &str) -> Result<(), ValidationError> {
    match crate::time::parse_date(s) {
        Some(_) => Ok(()),
        None => {
            Err(ValidationError::new("date").with_message("must be a date as YYYY-MM-DD".into()))
        }
    }
}

/// Distinguishes an absent field (`None`) from an explicit null (`Some(None)`).
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A new party; it starts `pending_review`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"kind": "third_party", "legal_name": "Acme Mail Ltd", "country": "CN",
    "data_locations": ["CN", "SG"], "privacy_policy_url": "https://acme.example/privacy",
    "contact_email": "dpo@acme.example", "contract_reference": "MSA-2026-001", "risk_tier": "medium",
    "next_review_due": "2027-06-30"}))]
pub struct NewParty {
    pub kind: PartyKind,
    #[validate(length(min = 1, max = 300))]
    pub legal_name: String,
    #[validate(custom(function = "super::country::validate_code"))]
    pub country: String,
    #[validate(custom(function = "countries"))]
    pub data_locations: Vec<String>,
    #[validate(custom(function = "https_url"))]
    pub privacy_policy_url: String,
    #[validate(email(message = "must be an email address"), length(max = 320))]
    pub contact_email: String,
    #[validate(length(min = 1, max = 200))]
    pub contract_reference: Option<String>,
    /// Defaults to `medium`.
    pub risk_tier: Option<RiskTier>,
    #[validate(custom(function = "date"))]
    pub next_review_due: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub external_ref: Option<String>,
    #[validate(length(max = 200))]
    pub declared_purposes: Option<Vec<String>>,
    #[validate(length(max = 500))]
    pub declared_categories: Option<Vec<String>>,
}

/// Changes to a party; absent fields stay as they are, null clears an optional field.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"risk_tier": "high", "next_review_due": "2027-01-31"}))]
pub struct PartyPatch {
    pub kind: Option<PartyKind>,
    #[validate(length(min = 1, max = 300))]
    pub legal_name: Option<String>,
    #[validate(custom(function = "super::country::validate_code"))]
    pub country: Option<String>,
    #[validate(custom(function = "countries"))]
    pub data_locations: Option<Vec<String>>,
    #[validate(custom(function = "https_url"))]
    pub privacy_policy_url: Option<String>,
    #[validate(email(message = "must be an email address"), length(max = 320))]
    pub contact_email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contract_reference: Option<Option<String>>,
    pub risk_tier: Option<RiskTier>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub next_review_due: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_ref: Option<Option<String>>,
    #[validate(length(max = 200))]
    pub declared_purposes: Option<Vec<String>>,
    #[validate(length(max = 500))]
    pub declared_categories: Option<Vec<String>>,
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"status": "trusted", "reason": "Due diligence DD-2026-17 complete."}))]
pub struct StatusChange {
    pub status: PartyStatus,
    /// Why; kept as `status_reason` and in the ledger.
    #[validate(length(max = 1000))]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `third_party` or `affiliate`.
    kind: Option<String>,
    /// `PRC`, `US` or `OTHER`.
    region: Option<String>,
    /// `pending_review`, `trusted`, `suspended` or `offboarded`.
    status: Option<String>,
    /// Case-insensitive text in the legal name.
    q: Option<String>,
    /// Only parties whose review is due before this date (`YYYY-MM-DD`).
    review_due_before: Option<String>,
    /// Only the party with this external reference (e.g. `gvl:755`).
    external_ref: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// Answer what the register said at this instant (RFC 3339).
    as_of: Option<String>,
}

pub fn find_by_external_ref(
    conn: &mut DbConn,
    external_ref: &str,
) -> QueryResult<Option<PartyRow>> {
    parties::table
        .filter(parties::external_ref.eq(external_ref))
        .select(PartyRow::as_select())
        .first(conn)
        .optional()
}

/// Writes a changed party row.
pub fn save(conn: &mut DbConn, row: &PartyRow) -> QueryResult<()> {
    diesel::update(parties::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<PartyRow>> {
    parties::table
        .find(id)
        .select(PartyRow::as_select())
        .first(conn)
        .optional()
}

pub fn record(
    conn: &mut DbConn,
    actor: &serde_json::Value,
    action: &str,
    row: &PartyRow,
) -> Result<(), ApiError> {
    let change = serde_json::to_value(Party::from(row.clone()))?;
    crate::ledger::append(
        conn,
        actor,
        action,
        &format!("party:{}", row.id),
        &change,
        true,
    )?;
    Ok(())
}

fn check_declared(
    conn: &mut DbConn,
    purposes: &[String],
    categories: &[String],
) -> Result<(), ApiError> {
    check_known(conn, Taxonomy::Purposes, "declared_purposes", purposes)?;
    check_known(
        conn,
        Taxonomy::Categories,
        "declared_categories",
        categories,
    )
}

fn ok_party(row: PartyRow, status: actix_web::http::StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(row.version)))
        .json(Party::from(row))
}

/// Parses an `as_of` query value (422 when it is not RFC 3339).
pub fn as_of(value: Option<&str>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| {
            crate::time::parse(v)
                .map(crate::time::format)
                .ok_or_else(|| ApiError::field("as_of", "must be an RFC 3339 timestamp"))
        })
        .transpose()
}

/// List parties, oldest first.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_parties",
    tag = "parties",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement", "auditor"]))),
    responses((status = 200, description = "A page of parties.", body = Page<Party>))
)]
#[get("/v1/parties")]
pub async fn list(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    if q.kind
        .as_deref()
        .is_some_and(|k| !matches!(k, "third_party" | "affiliate"))
    {
        return Err(ApiError::field("kind", "must be third_party or affiliate"));
    }
    if q.region
        .as_deref()
        .is_some_and(|r| Region::parse(r).is_none())
    {
        return Err(ApiError::field("region", "must be PRC, US or OTHER"));
    }
    if q.status
        .as_deref()
        .is_some_and(|s| PartyStatus::parse(s).is_none())
    {
        return Err(ApiError::field(
            "status",
            "must be pending_review, trusted, suspended or offboarded",
        ));
    }
    if q.review_due_before
        .as_deref()
        .is_some_and(|d| crate::time::parse_date(d).is_none())
    {
        return Err(ApiError::field(
            "review_due_before",
            "must be a date as YYYY-MM-DD",
        ));
    }
    if q.q.as_deref().is_some_and(|t| t.len() > 200) {
        return Err(ApiError::field("q", "must be at most 200 characters"));
    }
    let result = state
        .read(move |conn| {
            let mut query = parties::table.into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(parties::id.gt(after.clone()));
            }
            if let Some(kind) = q.kind {
                query = query.filter(parties::kind.eq(kind));
            }
            if let Some(region) = q.region {
                query = query.filter(parties::region.eq(region));
            }
            if let Some(status) = q.status {
                query = query.filter(parties::status.eq(status));
            }
            if let Some(date) = q.review_due_before {
                query = query.filter(parties::next_review_due.lt(date));
            }
            if let Some(r) = q.external_ref {
                query = query.filter(parties::external_ref.eq(r));
            }
            if let Some(text) = q.q {
                let escaped = text
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let pattern = format!("%{}%", escaped.to_lowercase());
                query = query.filter(lower(parties::legal_name).like(pattern).escape('\\'));
            }
            query
                .order(parties::id.asc())
                .limit(page.fetch())
                .select(PartyRow::as_select())
                .load(conn)
                .map(|rows| page.finish(rows, |r| r.id.clone(), Party::from))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Get a party, now or as it was at `as_of`.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "get_party",
    tag = "parties",
    params(("id" = String, Path, description = "The party id."), AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement", "auditor"]))),
    responses((status = 200, description = "The party; `ETag` carries its version.", body = Party,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/parties/{id}")]
pub async fn get(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let at = as_of(query.as_of.as_deref())?;
    if let Some(at) = at {
        let subject = format!("party:{id}");
        let rows = state
            .read(move |conn| crate::ledger::subject_history(conn, &subject, &at))
            .await?;
        let last = rows.into_iter().last().ok_or(ApiError::NotFound)?;
        let mut party: Party = serde_json::from_str(&last.change)?;
        party.as_of_ledger_seq = Some(last.seq);
        return Ok(HttpResponse::Ok().json(party));
    }
    let row = state
        .read(move |conn| find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ok_party(row, actix_web::http::StatusCode::OK))
}

/// Register a party.
///
/// It starts `pending_review`; the caller is recorded as `created_by`. Roles: admin, procurement.
#[utoipa::path(
    operation_id = "create_party",
    tag = "parties",
    request_body = NewParty,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement"]))),
    responses(
        (status = 201, description = "Created.", body = Party,
            headers(("Location" = String, description = "The new party."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "A party with that external reference exists.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/parties")]
pub async fn create(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewParty = body.parse()?;
    let purposes = new.declared_purposes.clone().unwrap_or_default();
    let categories = new.declared_categories.clone().unwrap_or_default();
    check_unique("declared_purposes", &purposes)?;
    check_unique("declared_categories", &categories)?;
    let actor = auth.0.actor();
    let sub = auth.0.sub.clone();
    let row = state
        .write(move |conn| {
            check_declared(conn, &purposes, &categories)?;
            let now = crate::time::format(crate::time::now());
            let row = PartyRow {
                id: uuid::Uuid::now_v7().to_string(),
                kind: serde_plain(&new.kind),
                legal_name: new.legal_name,
                region: Some(Region::of(&new.country).as_str().to_owned()),
                country: Some(new.country),
                data_locations: list_to_text(&new.data_locations),
                privacy_policy_url: new.privacy_policy_url,
                contact_email: new.contact_email,
                contract_reference: new.contract_reference,
                risk_tier: serde_plain(&new.risk_tier.unwrap_or(RiskTier::Medium)),
                next_review_due: new.next_review_due,
                status: PartyStatus::PendingReview.as_str().into(),
                status_reason: None,
                external_ref: new.external_ref,
                declared_purposes: list_to_text(&purposes),
                declared_categories: list_to_text(&categories),
                deleted_upstream: false,
                created_by: sub,
                created_at: now.clone(),
                updated_at: now,
                version: 1,
            };
            insert(conn, &row)?;
            record(conn, &actor, "party.created", &row)?;
            Ok(row)
        })
        .await?;
    let location = format!("/v1/parties/{}", row.id);
    let mut res = ok_party(row, actix_web::http::StatusCode::CREATED);
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(res)
}

/// Inserts a party, answering 409 when its external reference is taken.
pub fn insert(conn: &mut DbConn, row: &PartyRow) -> Result<(), ApiError> {
    if let Some(r) = &row.external_ref {
        let taken: i64 = parties::table
            .filter(parties::external_ref.eq(r))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(ApiError::Conflict(
                "A party with that external_ref exists already.".into(),
            ));
        }
    }
    diesel::insert_into(parties::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The lowercase name serde gives a unit variant.
pub fn serde_plain<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Change a party's record.
///
/// Requires `If-Match`. The status has its own operation. Roles: admin, procurement.
#[utoipa::path(
    operation_id = "update_party",
    tag = "parties",
    params(("id" = String, Path, description = "The party id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = PartyPatch,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement"]))),
    responses(
        (status = 200, description = "The updated party.", body = Party,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "The party is offboarded.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/parties/{id}")]
pub async fn update(
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
            let mut row = find(conn, &id)?.ok_or(ApiError::NotFound)?;
            if_match.require(row.version)?;
            let patch: PartyPatch = body.parse()?;
            for (field, value) in [
                ("contract_reference", &patch.contract_reference),
                ("external_ref", &patch.external_ref),
            ] {
                if let Some(Some(v)) = value
                    && (v.is_empty() || v.len() > 200)
                {
                    return Err(ApiError::field(field, "must be 1-200 characters"));
                }
            }
            if let Some(Some(d)) = &patch.next_review_due {
                date(d).map_err(|_| {
                    ApiError::field("next_review_due", "must be a date as YYYY-MM-DD")
                })?;
            }
            if let Some(p) = &patch.declared_purposes {
                check_unique("declared_purposes", p)?;
                check_known(conn, Taxonomy::Purposes, "declared_purposes", p)?;
            }
            if let Some(c) = &patch.declared_categories {
                check_unique("declared_categories", c)?;
                check_known(conn, Taxonomy::Categories, "declared_categories", c)?;
            }
            if row.status == PartyStatus::Offboarded.as_str() {
                return Err(ApiError::Conflict(
                    "An offboarded party cannot be changed.".into(),
                ));
            }
            if let Some(Some(r)) = &patch.external_ref {
                let taken: i64 = parties::table
                    .filter(parties::external_ref.eq(r))
                    .filter(parties::id.ne(&row.id))
                    .count()
                    .get_result(conn)?;
                if taken > 0 {
                    return Err(ApiError::Conflict(
                        "A party with that external_ref exists already.".into(),
                    ));
                }
            }
            apply(&mut row, patch);
            row.version += 1;
            row.updated_at = crate::time::format(crate::time::now());
            diesel::update(parties::table.find(&row.id))
                .set(&row)
                .execute(conn)?;
            record(conn, &actor, "party.updated", &row)?;
            Ok(row)
        })
        .await?;
    Ok(ok_party(row, actix_web::http::StatusCode::OK))
}

fn apply(row: &mut PartyRow, p: PartyPatch) {
    if let Some(kind) = p.kind {
        row.kind = serde_plain(&kind);
    }
    if let Some(v) = p.legal_name {
        row.legal_name = v;
    }
    if let Some(c) = p.country {
        row.region = Some(Region::of(&c).as_str().to_owned());
        row.country = Some(c);
    }
    if let Some(v) = p.data_locations {
        row.data_locations = list_to_text(&v);
    }
    if let Some(v) = p.privacy_policy_url {
        row.privacy_policy_url = v;
    }
    if let Some(v) = p.contact_email {
        row.contact_email = v;
    }
    if let Some(v) = p.contract_reference {
        row.contract_reference = v;
    }
    if let Some(v) = p.risk_tier {
        row.risk_tier = serde_plain(&v);
    }
    if let Some(v) = p.next_review_due {
        row.next_review_due = v;
    }
    if let Some(v) = p.external_ref {
        row.external_ref = v;
    }
    if let Some(v) = p.declared_purposes {
        row.declared_purposes = list_to_text(&v);
    }
    if let Some(v) = p.declared_categories {
        row.declared_categories = list_to_text(&v);
    }
}

/// Change a party's status.
///
/// Legal transitions: `pending_review → trusted`, `trusted ⇄ suspended`, any → `offboarded`
/// (final; revokes every active grant of the party). Four eyes: whoever registered the party
/// cannot mark it trusted (403). A party without `country` and `data_locations`, or withdrawn
/// from its upstream list, cannot become trusted. Requires `If-Match`. Roles: admin, procurement.
#[utoipa::path(
    operation_id = "change_party_status",
    tag = "parties",
    params(("id" = String, Path, description = "The party id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = StatusChange,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement"]))),
    responses(
        (status = 200, description = "The updated party.", body = Party,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "Not a legal transition from the current status.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/parties/{id}/status")]
pub async fn change_status(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let principal = auth.0;
    let row = state
        .write(move |conn| {
            let mut row = find(conn, &id)?.ok_or(ApiError::NotFound)?;
            if_match.require(row.version)?;
            let change: StatusChange = body.parse()?;
            let from = PartyStatus::parse(&row.status).unwrap_or(PartyStatus::PendingReview);
            if change.status == PartyStatus::Trusted {
                let mut errors = Vec::new();
                if row.country.is_none() {
                    errors.push(crate::error::FieldError::new(
                        "country",
                        "must be set before the party can be trusted",
                    ));
                }
                if text_to_list(&row.data_locations).is_empty() {
                    errors.push(crate::error::FieldError::new(
                        "data_locations",
                        "must be set before the party can be trusted",
                    ));
                }
                if !row.contact_email.contains('@') {
                    errors.push(crate::error::FieldError::new(
                        "contact_email",
                        "must be set before the party can be trusted",
                    ));
                }
                if !is_https_url(&row.privacy_policy_url) {
                    errors.push(crate::error::FieldError::new(
                        "privacy_policy_url",
                        "must be an https URL before the party can be trusted",
                    ));
                }
                if !errors.is_empty() {
                    return Err(ApiError::Validation(errors));
                }
                if principal.sub == row.created_by {
                    return Err(ApiError::Forbidden(
                        "Four eyes: the principal who registered a party cannot mark it trusted."
                            .into(),
                    ));
                }
                if row.deleted_upstream {
                    return Err(ApiError::Conflict(
                        "The party was withdrawn from its vendor list and can never be trusted."
                            .into(),
                    ));
                }
            }
            if !from.can_become(change.status) {
                return Err(ApiError::Conflict(format!(
                    "A party cannot go from {} to {}.",
                    from.as_str(),
                    change.status.as_str()
                )));
            }
            let now = crate::time::format(crate::time::now());
            let actor = principal.actor();
            row.status = change.status.as_str().into();
            row.status_reason = change.reason;
            row.version += 1;
            row.updated_at = now;
            diesel::update(parties::table.find(&row.id))
                .set(&row)
                .execute(conn)?;
            record(conn, &actor, "party.status_changed", &row)?;
            if change.status == PartyStatus::Offboarded {
                super::grants::revoke_all(conn, &actor, &row.id, "party offboarded")?;
            }
            Ok(row)
        })
        .await?;
    Ok(ok_party(row, actix_web::http::StatusCode::OK))
}
