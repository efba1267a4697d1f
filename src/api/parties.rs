//! Parties: register, read (now or as of an instant), change, and move through the lifecycle.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, http::header, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::{IfMatch, JsonBody, etag};
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use super::validators::{as_of, countries, date, https_url, nullable, parse_countries};
use crate::auth::{RegisterRead, RegisterWrite};
use crate::error::DomainError;
use crate::ledger::Subject;
use crate::registry::lifecycle::{self, StatusChange as Change};
use crate::registry::parties::{
    self, Party, PartyKind, PartyRow, PartyStatus, RiskTier, commands, store,
};
use crate::types::{CountryCode, Region};

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
    #[validate(custom(function = "super::validators::country"))]
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
    #[validate(custom(function = "super::validators::country"))]
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

impl PartyPatch {
    /// The changes, once the rules the validator crate cannot state hold.
    fn into_changes(self) -> Result<parties::Changes, DomainError> {
        for (field, value) in [
            ("contract_reference", &self.contract_reference),
            ("external_ref", &self.external_ref),
        ] {
            if let Some(Some(v)) = value
                && (v.is_empty() || v.len() > 200)
            {
                return Err(DomainError::field(field, "must be 1-200 characters"));
            }
        }
        if let Some(Some(d)) = &self.next_review_due {
            date(d).map_err(|_| {
                DomainError::field("next_review_due", "must be a date as YYYY-MM-DD")
            })?;
        }
        Ok(parties::Changes {
            kind: self.kind,
            legal_name: self.legal_name,
            country: self
                .country
                .as_deref()
                .map(|c| parse_country("country", c))
                .transpose()?,
            data_locations: self
                .data_locations
                .as_deref()
                .map(|c| parse_countries("data_locations", c))
                .transpose()?,
            privacy_policy_url: self.privacy_policy_url,
            contact_email: self.contact_email,
            contract_reference: self.contract_reference,
            risk_tier: self.risk_tier,
            next_review_due: self.next_review_due,
            external_ref: self.external_ref,
            declared_purposes: self.declared_purposes,
            declared_categories: self.declared_categories,
        })
    }
}

fn parse_country(field: &str, code: &str) -> Result<CountryCode, DomainError> {
    CountryCode::parse(code)
        .ok_or_else(|| DomainError::field(field, "must be an ISO 3166-1 alpha-2 code"))
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

fn ok_party(row: PartyRow, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(row.version)))
        .json(Party::from(row))
}

impl ListQuery {
    fn filter(self) -> Result<store::Filter, ApiError> {
        let parsed =
            |field: &str, value: Option<String>, parse: fn(&str) -> bool, why: &str| match value {
                Some(v) if !parse(&v) => Err(ApiError::field(field, why)),
                other => Ok(other),
            };
        let kind = parsed(
            "kind",
            self.kind,
            |k| PartyKind::parse(k).is_some(),
            "must be third_party or affiliate",
        )?;
        let region = parsed(
            "region",
            self.region,
            |r| Region::parse(r).is_some(),
            "must be PRC, US or OTHER",
        )?;
        let status = parsed(
            "status",
            self.status,
            |s| PartyStatus::parse(s).is_some(),
            "must be pending_review, trusted, suspended or offboarded",
        )?;
        let review_due_before = parsed(
            "review_due_before",
            self.review_due_before,
            |d| crate::time::parse_date(d).is_some(),
            "must be a date as YYYY-MM-DD",
        )?;
        if self.q.as_deref().is_some_and(|t| t.len() > 200) {
            return Err(ApiError::field("q", "must be at most 200 characters"));
        }
        Ok(store::Filter {
            kind: kind.as_deref().and_then(PartyKind::parse),
            region: region.as_deref().and_then(Region::parse),
            status: status.as_deref().and_then(PartyStatus::parse),
            name_contains: self.q,
            review_due_before,
            external_ref: self.external_ref,
        })
    }
}

/// List parties, oldest first.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_parties",
    tag = "parties",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
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
    let filter = q.filter()?;
    let result = state
        .read(move |conn| {
            store::list(conn, &filter, page.after.as_deref(), page.fetch())
                .map(|rows| page.finish(rows, |r| r.id.clone(), Party::from))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get a party, now or as it was at `as_of`.
///
/// Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "get_party",
    tag = "parties",
    params(("id" = String, Path, description = "The party id."), AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
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
    if let Some(at) = as_of(query.as_of.as_deref())? {
        let subject = Subject::Party(&id).to_string();
        let rows = state
            .read(move |conn| crate::ledger::store::subject_history(conn, &subject, &at))
            .await?;
        let last = rows.into_iter().last().ok_or(ApiError::NotFound)?;
        let mut party: Party = serde_json::from_str(&last.change)?;
        party.as_of_ledger_seq = Some(last.seq);
        return Ok(HttpResponse::Ok().json(party));
    }
    let row = state
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ok_party(row, StatusCode::OK))
}

/// Register a party.
///
/// It starts `pending_review`; the caller is recorded as `created_by`. Roles: admin, procurement.
#[utoipa::path(
    operation_id = "create_party",
    tag = "parties",
    request_body = NewParty,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 201, description = "Created.", body = Party,
            headers(("Location" = String, description = "The new party."), ("ETag" = String, description = "Its version."))),
        (status = 409, description = "A party with that external reference exists.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/parties")]
pub async fn create(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewParty = body.parse()?;
    let draft = parties::Draft {
        kind: new.kind,
        legal_name: new.legal_name,
        country: parse_country("country", &new.country)?,
        data_locations: parse_countries("data_locations", &new.data_locations)?,
        privacy_policy_url: new.privacy_policy_url,
        contact_email: new.contact_email,
        contract_reference: new.contract_reference,
        risk_tier: new.risk_tier.unwrap_or(RiskTier::Medium),
        next_review_due: new.next_review_due,
        external_ref: new.external_ref,
        declared_purposes: new.declared_purposes.unwrap_or_default(),
        declared_categories: new.declared_categories.unwrap_or_default(),
    };
    let actor = auth.0;
    let row = state
        .write(move |conn| commands::create(conn, &actor, draft))
        .await?;
    let location = format!("/v1/parties/{}", row.id);
    let mut res = ok_party(row, StatusCode::CREATED);
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(res)
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
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The updated party.", body = Party,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "The party is offboarded.", body = super::error::Problem, content_type = "application/problem+json"),
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
    let actor = auth.0;
    let row = state
        .write(move |conn| {
            commands::update(conn, &actor, &id, &if_match.0, || {
                body.parse::<PartyPatch>()?.into_changes()
            })
        })
        .await?;
    Ok(ok_party(row, StatusCode::OK))
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
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The updated party.", body = Party,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "Not a legal transition from the current status.", body = super::error::Problem, content_type = "application/problem+json"),
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
    let actor = auth.0;
    let row = state
        .write(move |conn| {
            lifecycle::change_status(conn, &actor, &id, &if_match.0, || {
                let c: StatusChange = body.parse()?;
                Ok(Change {
                    status: c.status,
                    reason: c.reason,
                })
            })
        })
        .await?;
    Ok(ok_party(row, StatusCode::OK))
}
