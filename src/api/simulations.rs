//! `POST /v1/simulations`: what proposed register changes would do to recorded decisions.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::state::AppState;
use crate::auth::Simulate;
use crate::decision::simulate::{Change, Question, Simulation, simulate};

/// A what-if question.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"from": "2026-11-01", "to": "2026-12-01",
    "changes": [{"kind": "revoke_grant", "grant_id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f"},
        {"kind": "suspend_party", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f"}]}))]
pub struct SimulationRequest {
    /// The decisions decided at or after this instant (RFC 3339, or a date: its start, UTC).
    /// Defaults to 30 days before now.
    pub from: Option<String>,
    /// … and before this one (RFC 3339, or a date: its start). Defaults to now.
    pub to: Option<String>,
    /// Only this service's decisions.
    #[validate(length(min = 1, max = 100))]
    pub service: Option<String>,
    /// Only decisions about this party.
    #[validate(length(min = 1, max = 100))]
    pub party_id: Option<String>,
    /// The proposed changes, applied in order to a copy of the register; none asks what the
    /// register as it is now says of the window.
    #[validate(length(max = 100))]
    pub changes: Vec<Change>,
}

fn instant(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    super::validators::day_or_instant(
        field,
        value,
        "T00:00:00.000000Z",
        "must be an RFC 3339 timestamp or a date as YYYY-MM-DD (its start, UTC)",
    )
}

/// Simulate register changes against recorded decisions.
///
/// Replays the decisions of a window (at most 10,000, oldest first; `truncated` says if there
/// were more) against the register as it is now and against a copy with the proposed changes —
/// a grant revoked or added, a party suspended, its processing countries replaced — judged now
/// by the same engine with today's counters. Answers the decisions whose outcome with the
/// changes differs from the one recorded, each with its outcome without the changes (so what
/// the changes cause stands apart from what has moved since) and the new reasons. Writes
/// nothing, counts nothing. Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "simulate",
    tag = "sharing",
    request_body = SimulationRequest,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(Simulate::NAMES))),
    responses((status = 200, description = "The decisions that would flip; nothing recorded.", body = Simulation))
)]
#[post("/v1/simulations")]
pub async fn create(
    _auth: Auth<Simulate>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let input: SimulationRequest = body.parse()?;
    let now = crate::time::now();
    let to = instant("to", input.to.as_deref())?.unwrap_or_else(|| crate::time::format(now));
    let from = instant("from", input.from.as_deref())?
        .unwrap_or_else(|| crate::time::format(now - chrono::Duration::days(30)));
    if from >= to {
        return Err(ApiError::field("to", "must be after from"));
    }
    let question = Question {
        from,
        to,
        service: input.service,
        party_id: input.party_id,
        changes: input.changes,
    };
    let slot = state.snapshot.clone();
    let enforcement = state.enforcement;
    let answer: Simulation = state
        .read(move |conn| simulate(conn, &slot, &question, enforcement))
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
