//! The transfer rule set and the volume counters.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Auth;
use super::error::ApiError;
use super::state::AppState;
use crate::auth::{AnyRole, RegisterRead};
use crate::transfers::rules::RuleSet;
use crate::transfers::volumes::{self, Summary};

/// The transfer rule set this node runs.
///
/// The whole rule set compiled into the binary — EEA, adequacy decisions with their dates,
/// DSP countries of concern, thresholds and each reason code's rule — with its `sha256`, which
/// the ledger records (`rules.activated`) when a node first runs it. Every decision names its
/// `rules_version`. Roles: any.
#[utoipa::path(
    operation_id = "get_transfer_rules",
    tag = "transfers",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AnyRole::NAMES))),
    responses((status = 200, description = "The rule set.", body = Object))
)]
#[get("/v1/transfer-rules")]
pub async fn get_rules(_auth: Auth<AnyRole>) -> HttpResponse {
    HttpResponse::Ok().json(RuleSet::current().document())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolumesQuery {
    /// Only counters of this exporting entity.
    exporter: Option<String>,
    /// Only DSP counters of this party.
    party_id: Option<String>,
}

/// The volume counters.
///
/// PIPL counters per exporter and calendar year (UTC+8) with the tier reached; DSP counters
/// per exporter, party and class over the 366 days ending today with their bulk status. They
/// count approved shares only, in the decision's own transaction. Roles: admin, procurement,
/// auditor.
#[utoipa::path(
    operation_id = "list_transfer_volumes",
    tag = "transfers",
    params(VolumesQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "The counters.", body = Vec<Summary>))
)]
#[get("/v1/transfer-volumes")]
pub async fn list_volumes(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    query: web::Query<VolumesQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let rows = state
        .read(move |conn| volumes::store::list(conn, q.exporter.as_deref(), q.party_id.as_deref()))
        .await?;
    let items = volumes::summarise(&rows, RuleSet::current(), crate::time::now());
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}
