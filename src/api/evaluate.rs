//! `POST /v1/sharing-requests/evaluate`: the decision endpoint's dry run.

use actix_web::{HttpResponse, post, web};

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::sharing::{SharingRequest, request_of, with_key_errors};
use super::state::AppState;
use super::validators::{AsOfQuery, as_of};
use crate::auth::{EvaluateShare, Role};
use crate::decision::evaluate::Evaluation;

/// Evaluate a sharing request without recording it.
///
/// The same body, the same engine, the same register and counters as
/// `POST /v1/sharing-requests`, judged now — answered with `recorded: false`; nothing is written
/// to the ledger and nothing is counted, so it may be asked as often as needed.
/// With `as_of` (an RFC 3339 instant, or a bare date meaning the end of that day, UTC; not in
/// the future) it is judged as it would have been then: the register as the ledger recorded it
/// at that instant (services, parties, grants and their approvals, agreements, entities,
/// taxonomy marks), grants' and agreements' validity and the volume windows read at that
/// instant, and the volume counters as they stood (what was counted after it taken back out);
/// `as_of_ledger_seq` names the last entry behind the answer. The rules are today's
/// (`rules_version`). A taxonomy key added later is a 422. A service
/// evaluates for itself; admin, procurement and auditor for any service, named in `service`
/// (required for them). Unknown keys are a 422, as for a decision. Roles: service, admin,
/// procurement, auditor.
#[utoipa::path(
    operation_id = "evaluate_sharing_request",
    tag = "sharing",
    request_body = SharingRequest,
    params(AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(EvaluateShare::NAMES))),
    responses((status = 200, description = "What a decision would answer now, or would have answered at `as_of`; nothing recorded.", body = Evaluation))
)]
#[post("/v1/sharing-requests/evaluate")]
pub async fn evaluate(
    auth: Auth<EvaluateShare>,
    state: web::Data<AppState>,
    body: JsonBody,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let answer = evaluate_as(&state, auth.0, &body.0, query.as_of()).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Whether `p` evaluates for any service (naming it); a service evaluates only as itself.
pub(crate) fn evaluates_any(p: &crate::auth::Principal) -> bool {
    [Role::Admin, Role::Procurement, Role::Auditor]
        .iter()
        .any(|r| p.has(*r))
}

/// The evaluation `principal` asks for with `body` (the API's and the console's).
pub(crate) async fn evaluate_as(
    state: &AppState,
    principal: crate::auth::Principal,
    body: &serde_json::Value,
    as_of_query: Option<&str>,
) -> Result<Evaluation, ApiError> {
    let as_of = as_of(as_of_query)?;
    if let Some(at) = &as_of
        && at.as_str() > crate::time::format(crate::time::now()).as_str()
    {
        return Err(ApiError::field(
            "as_of",
            "must not be in the future: leave it out to judge now",
        ));
    }
    let parsed = super::extract::parse_value(body).map_err(Into::into);
    let input: SharingRequest = with_key_errors(state, body, parsed)?;
    let service = match (&input.service, evaluates_any(&principal)) {
        (Some(s), true) => s.clone(),
        (None, true) => {
            return Err(ApiError::field(
                "service",
                "is required: the service whose request is evaluated",
            ));
        }
        (Some(s), false) if *s != principal.sub => {
            return Err(ApiError::Forbidden(
                "A service may evaluate sharing requests only as itself.".into(),
            ));
        }
        (_, false) => principal.sub.clone(),
    };
    let request = with_key_errors(state, body, request_of(input, service))?;
    let slot = state.snapshot.clone();
    let enforcement = state.enforcement;
    state
        .read(move |conn| {
            crate::decision::evaluate::evaluate(conn, &slot, request, enforcement, as_of.as_deref())
                .and_then(|inner| inner)
        })
        .await
}
