//! Parties: register, read (now or as of an instant), change, and move through the lifecycle.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};

mod bodies;
pub mod sub_processors;

pub use super::validators::AsOfQuery;
use bodies::parse_country;
pub use bodies::{ListQuery, NewParty, PartyPatch, StatusChange};

use super::auth::Auth;
use super::error::ApiError;
use super::extract::{IfMatch, JsonBody, versioned};
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use super::validators::{as_of, parse_countries};
use crate::auth::{RegisterRead, RegisterWrite};
use crate::ledger::Subject;
use crate::registry::lifecycle;
use crate::registry::parties::{self, Party, PartyRow, RiskTier, commands, store};

pub(super) fn ok_party(
    row: PartyRow,
    status: StatusCode,
    location: Option<String>,
) -> HttpResponse {
    versioned(status, row.version, location, &Party::from(row))
}

/// List parties, oldest first (now, or as they were at `as_of`).
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
    if let Some(at) = as_of(q.as_of.as_deref())? {
        let result = state
            .read(move |conn| {
                store::list_as_of(conn, &filter, page.after.as_deref(), page.fetch(), &at)
                    .map(|rows| page.finish(rows, |p| p.id.clone(), |p| p))
            })
            .await?;
        return Ok(HttpResponse::Ok().json(result));
    }
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
        let (mut party, seq) = state
            .read(move |conn| crate::ledger::store::state_at::<Party>(conn, &subject, &at))
            .await?
            .ok_or(ApiError::NotFound)?;
        party.as_of_ledger_seq = Some(seq);
        return Ok(HttpResponse::Ok().json(party));
    }
    let (row, open_incidents) = state
        .read(move |conn| -> Result<_, crate::error::DomainError> {
            let Some(row) = store::find(conn, &id)? else {
                return Err(crate::error::DomainError::NotFound);
            };
            let open = crate::disclosures::incidents::store::open_of_party(conn, &id)?;
            Ok((row, open))
        })
        .await?;
    let version = row.version;
    let mut party = Party::from(row);
    party.open_incidents = open_incidents;
    Ok(versioned(StatusCode::OK, version, None, &party))
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
    let draft = body.parse::<NewParty>()?.into_draft()?;
    let actor = auth.0;
    let row = state
        .write(move |conn| commands::create(conn, &actor, draft))
        .await?;
    let location = format!("/v1/parties/{}", row.id);
    Ok(ok_party(row, StatusCode::CREATED, Some(location)))
}

impl NewParty {
    /// The party's draft, its countries and facts checked.
    pub(crate) fn into_draft(self) -> Result<parties::Draft, ApiError> {
        let new = self;
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
            facts: bodies::facts(
                new.principal_place_of_business.as_deref(),
                new.ownership,
                new.us_dsp_covered,
                new.pipl_restricted,
                new.dpf_certified_until.map(Some),
            )?,
        };
        Ok(draft)
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
    Ok(ok_party(row, StatusCode::OK, None))
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
                Ok(body.parse::<StatusChange>()?.into_change())
            })
        })
        .await?;
    Ok(ok_party(row, StatusCode::OK, None))
}
