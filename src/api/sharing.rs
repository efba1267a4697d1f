//! `POST /v1/sharing-requests` and the decision reads.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use super::validators::{instant, optional};
use crate::auth::{DecisionRead, Principal, Role, ServiceOnly};
use crate::decision::batch::{Idempotency, Made};
use crate::decision::engine::{self, Outcome};
use crate::decision::record::Decision;
use crate::decision::store::{self, Filter};
use crate::transfers::Exemption;
use crate::types::Region;

/// A request to share data with a party.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "purpose": "marketing.communications.email",
    "categories": ["user.contact.email"], "destination_country": "SG", "subject_country": "CN", "subject_count": 1200,
    "exporter": "acme-cn"}))]
pub struct SharingRequest {
    /// The party that would receive the data.
    #[validate(custom(function = "crate::api::validators::uuid"))]
    #[schema(format = "uuid")]
    pub party_id: String,
    /// A purpose key of the taxonomy.
    #[validate(length(min = 1, max = 200))]
    pub purpose: String,
    /// Category keys of the taxonomy, at least one.
    #[validate(length(min = 1, max = 100))]
    pub categories: Vec<String>,
    /// Where the data would go (ISO 3166-1 alpha-2).
    #[validate(custom(function = "super::validators::country"))]
    pub destination_country: String,
    /// Where the people the data is about live (ISO 3166-1 alpha-2).
    #[validate(custom(function = "super::validators::country"))]
    pub subject_country: Option<String>,
    /// Deprecated: accepted when `subject_country` is absent (`PRC` → CN, `US` → US; `OTHER`
    /// cannot name a country and is a 422); the answer then carries a `Deprecation` header.
    #[schema(deprecated)]
    pub subject_region: Option<Region>,
    /// Where the data was collected or generated; defaults to `subject_country`.
    #[validate(custom(function = "super::validators::country"))]
    pub data_origin_country: Option<String>,
    /// Distinct people in this share, 1–1,000,000,000 (required): the volumes the law counts.
    #[validate(range(min = 1, max = 1_000_000_000))]
    #[schema(required = true, minimum = 1, maximum = 1_000_000_000)]
    pub subject_count: Option<i64>,
    /// Devices, counted instead of people for precise geolocation (28 CFR 202.205(c)).
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub device_count: Option<i64>,
    /// The company's exporting entity; defaults to the service's only entity.
    #[validate(length(min = 1, max = 100))]
    pub exporter: Option<String>,
    /// A PIPL exemption claimed (CAC 2024 Art. 5(1)-(3)); the approving grant must list it.
    pub exemption: Option<Exemption>,
    /// The subjects include children under 14: every category is sensitive under PIPL Art. 28.
    #[serde(default)]
    pub subjects_include_minors_under_14: bool,
    /// Government-related data (28 CFR 202.222): restricted at any volume to a covered person.
    #[serde(default)]
    pub us_government_related: bool,
    /// Optional; when present it must be the caller's own service key.
    #[validate(length(min = 1, max = 100))]
    pub service: Option<String>,
}

pub(super) fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let ok = value.len() <= 255
        && !value.is_empty()
        && value.as_bytes().iter().all(|b| (0x20..0x7f).contains(b));
    match value.to_str() {
        Ok(key) if ok => Ok(Some(key.to_owned())),
        _ => Err(ApiError::field(
            "Idempotency-Key",
            "must be 1-255 printable ASCII characters",
        )),
    }
}

/// Marks an answer as the replay of an earlier one (`Idempotent-Replayed: true`): it repeats
/// the first answer and says nothing of the register now.
pub(super) fn mark_replayed(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::HeaderName::from_static("idempotent-replayed"),
        header::HeaderValue::from_static("true"),
    );
    res
}

fn decision_response(status: StatusCode, id: &str, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, format!("/v1/sharing-requests/{id}")))
        .content_type("application/json")
        .body(body)
}

/// The engine's request for `input`, asked by `service`.
/// `result`, and when it is a 422, with the taxonomy keys `body` names that the register does
/// not know added (judged against the current snapshot): every error of the request in one
/// answer, not the keys only once the rest is fixed.
pub(super) fn with_key_errors<T>(
    state: &AppState,
    body: &serde_json::Value,
    result: Result<T, ApiError>,
) -> Result<T, ApiError> {
    let Err(ApiError::Validation(mut errors)) = result else {
        return result;
    };
    let snap = state.snapshot.read().map(|s| s.clone()).unwrap_or_default();
    if !snap.categories.is_empty() {
        let categories = body["categories"].as_array().cloned().unwrap_or_default();
        let names: Vec<&str> = categories
            .iter()
            .map(|c| c.as_str().unwrap_or(""))
            .collect();
        let keys = crate::decision::batch::unknown_keys(&snap, body["purpose"].as_str(), names);
        for e in keys {
            if !errors.iter().any(|known| known.field == e.field) {
                errors.push(e);
            }
        }
        errors.sort_by(|a, b| a.field.cmp(&b.field));
    }
    Err(ApiError::Validation(errors))
}

pub(super) fn request_of(
    input: SharingRequest,
    service: String,
) -> Result<engine::Request, ApiError> {
    let subject_country = match (&input.subject_country, input.subject_region) {
        (Some(c), _) => c.clone(),
        (None, Some(Region::Prc)) => "CN".into(),
        (None, Some(Region::Us)) => "US".into(),
        (None, Some(Region::Other)) => {
            return Err(ApiError::field(
                "subject_country",
                "is required: subject_region OTHER names no country",
            ));
        }
        (None, None) => return Err(ApiError::field("subject_country", "is required")),
    };
    let subject_count = input.subject_count.ok_or_else(|| {
        ApiError::field(
            "subject_count",
            "is required: the number of distinct people in this share, 1-1000000000",
        )
    })?;
    Ok(engine::Request {
        service,
        party_id: input.party_id,
        purpose: input.purpose,
        categories: input.categories,
        destination_country: input.destination_country,
        data_origin_country: input
            .data_origin_country
            .unwrap_or_else(|| subject_country.clone()),
        subject_country,
        subject_count,
        device_count: input.device_count,
        exporter: input.exporter,
        exemption: input.exemption,
        subjects_include_minors_under_14: input.subjects_include_minors_under_14,
        us_government_related: input.us_government_related,
    })
}

/// Ask whether data may be shared.
///
/// Judges the request against the register and answers 201 with the decision, approved or
/// denied, after recording it in the ledger. Deny by default: every failed check is reported
/// with its code. The service is the token's `sub`. With `Idempotency-Key`, the same key and an
/// equal body replay the first answer (200, identical body); a different body with the same key
/// is a 422. Unknown category or purpose keys are a 422, not a decision. Roles: service.
#[utoipa::path(
    operation_id = "create_sharing_request",
    tag = "sharing",
    request_body = SharingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 printable ASCII characters; kept at least 24 hours.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ServiceOnly::NAMES))),
    responses(
        (status = 201, description = "Decided and recorded.", body = Decision,
            headers(("Location" = String, description = "The decision."))),
        (status = 200, description = "A replay of the decision first made for this Idempotency-Key.", body = Decision,
            headers(("Idempotent-Replayed" = String, description = "`true`: this is the first answer, replayed; it says nothing of the register now."))),
    )
)]
#[post("/v1/sharing-requests")]
pub async fn create(
    auth: Auth<ServiceOnly>,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let input: SharingRequest = with_key_errors(&state, &body.0, body.parse().map_err(Into::into))?;
    let key = idempotency_key(&req)?;
    if input.service.as_deref().is_some_and(|s| s != principal.sub) {
        return Err(ApiError::Forbidden(
            "A service may file sharing requests only as itself.".into(),
        ));
    }
    let idempotency = key.map(|key| Idempotency {
        key,
        request_hash: crate::ledger::chain::sha256_hex(crate::jcs::to_string(&body.0).as_bytes()),
    });
    let deprecated = input.subject_region.is_some();
    let request = with_key_errors(&state, &body.0, request_of(input, principal.sub.clone()))?;
    let actor = principal.actor();
    let made = state.decide(actor, request, idempotency).await?;
    let mut response = match made {
        Made::New { decision, body } => {
            state.metrics.decision(
                decision.outcome.as_str(),
                decision.reasons.iter().map(|r| r.code.as_str()),
            );
            decision_response(StatusCode::CREATED, &decision.id, body)
        }
        Made::Replayed { id, body } => mark_replayed(decision_response(StatusCode::OK, &id, body)),
    };
    if deprecated {
        // RFC 9745: deprecated since the transfer-law release (2026-12-02T00:00:00Z).
        response.headers_mut().insert(
            header::HeaderName::from_static("deprecation"),
            header::HeaderValue::from_static("@1796169600"),
        );
    }
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only decisions for this service.
    service: Option<String>,
    /// Only decisions about this party.
    party_id: Option<String>,
    /// `approved` or `denied`.
    #[param(value_type = Option<Outcome>)]
    outcome: Option<String>,
    /// Decided at or after this instant (RFC 3339).
    from: Option<String>,
    /// Decided before this instant (RFC 3339).
    to: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Auditors, admins and counsel see every decision; anyone else (a service) only its own.
/// Whether `p` reads every service's decisions (the others read their own).
pub(crate) fn sees_all(p: &Principal) -> bool {
    p.has(Role::Admin) || p.has(Role::Auditor) || p.has(Role::Legal)
}

/// Parses the decision-list filters (shared with the CSV export).
pub fn filter(
    principal: &Principal,
    service: Option<String>,
    party_id: Option<String>,
    outcome: Option<String>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Option<Filter>, ApiError> {
    let outcome = optional(
        "outcome",
        outcome.as_deref(),
        Outcome::parse,
        "must be approved or denied",
    )?;
    let from = instant("from", from)?;
    let to = instant("to", to)?;
    let service = if sees_all(principal) {
        service
    } else {
        // A service asking for another service's decisions sees none.
        if service.as_deref().is_some_and(|s| s != principal.sub) {
            return Ok(None);
        }
        Some(principal.sub.clone())
    };
    Ok(Some(Filter {
        service,
        party_id,
        outcome,
        from,
        to,
    }))
}

/// List decisions, oldest first.
///
/// Roles: auditor and admin see all; a service sees its own.
#[utoipa::path(
    operation_id = "list_sharing_requests",
    tag = "sharing",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DecisionRead::NAMES))),
    responses((status = 200, description = "A page of decisions.", body = Page<Decision>))
)]
#[get("/v1/sharing-requests")]
pub async fn list(
    auth: Auth<DecisionRead>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let Some(filter) = filter(
        &auth.0,
        q.service,
        q.party_id,
        q.outcome,
        q.from.as_deref(),
        q.to.as_deref(),
    )?
    else {
        return Ok(HttpResponse::Ok().json(Page::<Decision> {
            items: vec![],
            next_cursor: None,
        }));
    };
    let result = state
        .read(move |conn| {
            let rows = store::list(conn, &filter, page.after.as_deref(), page.fetch())?;
            // A stored answer that is not JSON is an error, never a null item.
            let items = rows
                .into_iter()
                .map(|r| Ok((r.id, serde_json::from_str::<serde_json::Value>(&r.body)?)))
                .collect::<Result<Vec<_>, serde_json::Error>>()?;
            Ok::<_, ApiError>(page.finish(items, |(id, _)| id.clone(), |(_, body)| body))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get a decision.
///
/// Roles: auditor and admin, any; a service, its own (another's is a 404).
#[utoipa::path(
    operation_id = "get_sharing_request",
    tag = "sharing",
    params(("id" = String, Path, description = "The decision id.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DecisionRead::NAMES))),
    responses((status = 200, description = "The decision.", body = Decision))
)]
#[get("/v1/sharing-requests/{id}")]
pub async fn get(
    auth: Auth<DecisionRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = state
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    if !sees_all(&auth.0) && row.service != auth.0.sub {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(row.body))
}
