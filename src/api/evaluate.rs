//! `POST /v1/sharing-requests/evaluate`: the decision endpoint's dry run.

use actix_web::{HttpResponse, post, web};

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::sharing::{SharingRequest, request_of};
use super::state::AppState;
use crate::auth::{EvaluateShare, Role};
use crate::decision::evaluate::Evaluation;

/// Evaluate a sharing request without recording it.
///
/// The same body, the same engine, the same register and counters as
/// `POST /v1/sharing-requests`, judged now — answered with `recorded: false`; nothing is written
/// to the ledger and nothing is counted, so it may be asked as often as needed. A service
/// evaluates for itself; admin, procurement and auditor for any service, named in `service`
/// (required for them). Unknown keys are a 422, as for a decision. Roles: service, admin,
/// procurement, auditor.
#[utoipa::path(
    operation_id = "evaluate_sharing_request",
    tag = "sharing",
    request_body = SharingRequest,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(EvaluateShare::NAMES))),
    responses((status = 200, description = "What a decision would answer now; nothing recorded.", body = Evaluation))
)]
#[post("/v1/sharing-requests/evaluate")]
pub async fn evaluate(
    auth: Auth<EvaluateShare>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let input: SharingRequest = body.parse()?;
    let for_any = [Role::Admin, Role::Procurement, Role::Auditor]
        .iter()
        .any(|r| principal.has(*r));
    let service = match (&input.service, for_any) {
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
    let request = request_of(input, service)?;
    let slot = state.snapshot.clone();
    let enforcement = state.enforcement;
    let answer = state
        .read(move |conn| {
            crate::decision::evaluate::evaluate(conn, &slot, request, enforcement)
                .and_then(|inner| inner)
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
