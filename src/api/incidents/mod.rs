//! Incidents: open one (suspending its party), read them (now or as of an instant), amend,
//! move, settle their duties, and read their exposure.

mod bodies;

use bodies::changes;
pub use bodies::{
    DutyUpdate, ExposureQuery, IncidentPatch, IncidentStatusChange, ListQuery, NewIncident,
};
pub(in crate::api) use bodies::{draft, exposure_csv};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::auth::Auth;
use super::error::ApiError;
use super::extract::{IfMatch, JsonBody, versioned};
use super::legal::{Format, idempotency};
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use super::validators::{as_of, optional_stamp};
use crate::auth::{DisclosureRead, DisclosureWrite, IncidentRead};
use crate::disclosures::Filed;
use crate::disclosures::incidents::exposure::Exposure;
use crate::disclosures::incidents::store::{self, Filter};
use crate::disclosures::incidents::{DutyChange, Incident, commands};
use crate::error::DomainError;
use crate::ledger::Subject;

fn now() -> String {
    crate::time::format(crate::time::now())
}

fn answer(status: StatusCode, i: Incident) -> HttpResponse {
    let i = i.judged_at(&now());
    let location = (status == StatusCode::CREATED).then(|| format!("/v1/incidents/{}", i.id));
    versioned(status, i.version, location, &i)
}

pub(in crate::api) fn settings(state: &AppState) -> commands::Settings {
    commands::Settings {
        pipl_notice_hours: state.pipl_notice_hours,
    }
}

/// Open an incident at a party.
///
/// A trusted party is suspended in the same transaction (reason `incident <id>`), so the very
/// next decision for it is denied `party_not_trusted`; `suspend: false` needs
/// `no_suspend_reason`. The duties the exposure owes are stored with it. An unknown party is a
/// 422. Closing never reinstates the party. Roles: legal, admin.
#[utoipa::path(
    operation_id = "create_incident",
    tag = "disclosures",
    request_body = NewIncident,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 printable ASCII characters.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureWrite::NAMES))),
    responses(
        (status = 201, description = "Opened.", body = Incident,
            headers(("Location" = String, description = "The incident."), ("ETag" = String, description = "Its version."))),
        (status = 200, description = "A replay of the first answer for this Idempotency-Key.", body = Incident),
    )
)]
#[post("/v1/incidents")]
pub async fn create(
    auth: Auth<DisclosureWrite>,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let idem = idempotency(&req, &body)?;
    let actor = auth.0;
    let settings = settings(&state);
    let filed = state
        .write(move |conn| commands::open(conn, &actor, settings, idem, || draft(body.parse()?)))
        .await?;
    Ok(match filed {
        Filed::New(i) => answer(StatusCode::CREATED, i),
        Filed::Replayed(i) => super::sharing::mark_replayed(answer(StatusCode::OK, i)),
    })
}

/// List incidents, oldest first.
///
/// Roles: legal, admin, auditor, procurement.
#[utoipa::path(
    operation_id = "list_incidents",
    tag = "disclosures",
    params(ListQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(IncidentRead::NAMES))),
    responses((status = 200, description = "A page of incidents.", body = Page<Incident>))
)]
#[get("/v1/incidents")]
pub async fn list(
    _auth: Auth<IncidentRead>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let filter = Filter {
        party_id: q.party_id,
        status: q.status,
    };
    let at = now();
    let result = state
        .read(move |conn| -> Result<Page<Incident>, DomainError> {
            let rows = store::list(conn, &filter, page.after.as_deref(), Some(page.fetch()))?;
            Ok(page.finish(rows, |i| i.id.clone(), |i| i.judged_at(&at)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Get an incident with its duties, now or as it was at `as_of`.
///
/// `overdue` is computed when read (as of `as_of` when given). Roles: legal, admin, auditor,
/// procurement.
#[utoipa::path(
    operation_id = "get_incident",
    tag = "disclosures",
    params(("id" = String, Path, description = "The incident id."), super::validators::AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(IncidentRead::NAMES))),
    responses((status = 200, description = "The incident; `ETag` carries its version.", body = Incident,
        headers(("ETag" = String, description = "The version, for If-Match."))))
)]
#[get("/v1/incidents/{id}")]
pub async fn get(
    _auth: Auth<IncidentRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<super::validators::AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if let Some(at) = as_of(query.as_of())? {
        let when = at.clone();
        let found = state
            .read(move |conn| {
                let subject = Subject::Incident(&id).to_string();
                crate::ledger::store::state_at::<Incident>(conn, &subject, &at)
            })
            .await?;
        let (i, seq) = found.ok_or(ApiError::NotFound)?;
        let mut i = i.judged_at(&when);
        i.as_of_ledger_seq = Some(seq);
        return Ok(HttpResponse::Ok().json(i));
    }
    let i = state
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(answer(StatusCode::OK, i))
}

/// Amend an incident.
///
/// A wider exposure or a higher severity adds the duties it newly owes; none is removed.
/// Requires `If-Match`; a closed incident cannot change (409). Roles: legal, admin.
#[utoipa::path(
    operation_id = "update_incident",
    tag = "disclosures",
    params(("id" = String, Path, description = "The incident id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = IncidentPatch,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureWrite::NAMES))),
    responses(
        (status = 200, description = "The amended incident.", body = Incident,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "The incident is closed.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/incidents/{id}")]
pub async fn update(
    auth: Auth<DisclosureWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let actor = auth.0;
    let settings = settings(&state);
    let i = state
        .write(move |conn| {
            commands::update(conn, &actor, settings, &id, &if_match.0, || {
                changes(body.parse()?)
            })
        })
        .await?;
    Ok(answer(StatusCode::OK, i))
}

/// Move an incident: `open → contained → closed`.
///
/// `contained_at` and `closed_at` are set by the server; a closed incident never reopens (409).
/// Requires `If-Match`. Roles: legal, admin.
#[utoipa::path(
    operation_id = "change_incident_status",
    tag = "disclosures",
    params(("id" = String, Path, description = "The incident id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = IncidentStatusChange,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureWrite::NAMES))),
    responses(
        (status = 200, description = "The incident in its new status.", body = Incident,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "Not the next status.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/incidents/{id}/status")]
pub async fn change_status(
    auth: Auth<DisclosureWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let actor = auth.0;
    let i = state
        .write(move |conn| {
            commands::change_status(conn, &actor, &id, &if_match.0, || {
                Ok(body.parse::<IncidentStatusChange>()?.status)
            })
        })
        .await?;
    Ok(answer(StatusCode::OK, i))
}

/// Record what was done about a duty.
///
/// `done` with `at` (and the notice's `reference`), or `not_required` with the `reason` (the
/// risk assessment, or the measures that avoid harm). A duty is settled once (409 after).
/// Roles: legal, admin.
#[utoipa::path(
    operation_id = "update_incident_duty",
    tag = "disclosures",
    params(("id" = String, Path, description = "The incident id."),
        ("duty_id" = String, Path, description = "The duty id.")),
    request_body = DutyUpdate,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureWrite::NAMES))),
    responses(
        (status = 200, description = "The incident with the duty settled.", body = Incident,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "The duty is settled already.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/incidents/{id}/duties/{duty_id}")]
pub async fn update_duty(
    auth: Auth<DisclosureWrite>,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (id, duty_id) = path.into_inner();
    let actor = auth.0;
    let i = state
        .write(move |conn| {
            commands::update_duty(conn, &actor, &id, &duty_id, || {
                let u: DutyUpdate = body.parse()?;
                let at = optional_stamp("at", u.at.as_deref())
                    .map_err(|e| DomainError::Invalid(vec![e]))?;
                Ok(DutyChange {
                    status: u.status,
                    at,
                    reference: u.reference,
                    reason: u.reason,
                })
            })
        })
        .await?;
    Ok(answer(StatusCode::OK, i))
}

/// An incident's exposure.
///
/// Every approved decision for the party from `exposure_from` (or its first decision) until
/// `occurred_until` (or now), grouped by service × category × subject country × exporter, with
/// the sum of `subject_count` (an upper bound), the grants and agreements relied on and the
/// ledger seqs — from recorded decisions only. `format=csv` answers one line per group.
/// Roles: legal, admin, auditor.
#[utoipa::path(
    operation_id = "get_incident_exposure",
    tag = "disclosures",
    params(("id" = String, Path, description = "The incident id."), ExposureQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureRead::NAMES))),
    responses((status = 200, description = "The exposure.", content(
        (Exposure = "application/json"),
        (String = "text/csv", example = json!("service,category,subject_country,subject_region,exporter,decisions,subject_count,grants,agreements,ledger_seqs\r\nnewsletter,user.contact.email,DE,OTHER,acme-de,2,1500,0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f,,40 41\r\n"))
    )))
)]
#[get("/v1/incidents/{id}/exposure")]
pub async fn get_exposure(
    _auth: Auth<DisclosureRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ExposureQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let at = now();
    let e = state
        .read(move |conn| -> Result<Exposure, DomainError> {
            let i = store::find(conn, &id)?.ok_or(DomainError::NotFound)?;
            Ok(crate::disclosures::incidents::exposure::of(conn, &i, &at)?)
        })
        .await?;
    Ok(match query.format {
        Format::Json => HttpResponse::Ok().json(e),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(exposure_csv(&e)),
    })
}
