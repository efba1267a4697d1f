//! The transfer rule set and the volume counters.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::state::AppState;
use crate::auth::{AdminOnly, AnyRole, TransferRead};
use crate::transfers::audit::{self, Adjustment};
use crate::transfers::rules::RuleSet;
use crate::transfers::summary::{self, AdjustmentRecord, VolumeList};
use crate::transfers::volumes;

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
    responses((status = 200, description = "The rule set.", body = Object,
        example = json!({"version": "2026-01", "sha256": "9c1f…", "eea": {"countries": ["AT", "BE", "…"], "source": "EEA Agreement"},
            "gdpr_adequacy": {"entries": [{"country": "AD"}, {"country": "BR", "valid_from": "2026-01-26"}]},
            "reasons": {"us_dsp_prohibited": "28 CFR 202.303"}, "…": "…"})))
)]
#[get("/v1/transfer-rules")]
pub async fn get_rules(_auth: Auth<AnyRole>) -> HttpResponse {
    HttpResponse::Ok().json(RuleSet::current().document())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VolumesQuery {
    /// Only counters of this exporting entity.
    exporter: Option<String>,
    /// Only DSP counters of this party.
    party_id: Option<String>,
}

/// The volume counters.
///
/// PIPL counters per exporter and calendar year (UTC+8) with the tier reached; DSP counters
/// per exporter, party and class over the 366 days ending today with their bulk status; each
/// with the adjustments recorded for it. They count approved shares only, in the decision's own
/// transaction. Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "list_transfer_volumes",
    tag = "transfers",
    params(VolumesQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(TransferRead::NAMES))),
    responses((status = 200, description = "The counters.", body = VolumeList))
)]
#[get("/v1/transfer-volumes")]
pub async fn list_volumes(
    _auth: Auth<TransferRead>,
    state: web::Data<AppState>,
    query: web::Query<VolumesQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (rows, adjustments) = state
        .read(move |conn| {
            let rows = volumes::store::list(conn, q.exporter.as_deref(), q.party_id.as_deref())?;
            Ok::<_, ApiError>((rows, audit::adjustments(conn)?))
        })
        .await?;
    let mut items = summary::summarise(&rows, RuleSet::current(), crate::time::now());
    for s in &mut items {
        s.adjustments = adjustments
            .iter()
            .filter(|(_, a)| a.key == s.key)
            .map(|(seq, a)| AdjustmentRecord {
                ledger_seq: *seq,
                period: a.period.clone(),
                delta: a.delta,
                reason: a.reason.clone(),
                evidence_reference: a.evidence_reference.clone(),
            })
            .collect();
    }
    Ok(HttpResponse::Ok().json(VolumeList { items }))
}

/// Record an adjustment of a volume counter.
///
/// Seeds a counter for transfers made before the service counted them (or corrects one), in
/// the ledger as `volume.adjusted`; `GET /v1/audit/verify` rebuilds the counters from the
/// decisions and these entries. A counter never goes below zero. Roles: admin.
#[utoipa::path(
    operation_id = "adjust_transfer_volume",
    tag = "transfers",
    request_body = Adjustment,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AdminOnly::NAMES))),
    responses((status = 201, description = "Recorded; the counter's new count.", body = Object,
        example = json!({"key": "pipl:acme-cn:non_sensitive", "count": 120_000})))
)]
#[post("/v1/transfer-volumes/adjustments")]
pub async fn adjust(
    auth: Auth<AdminOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.0.actor();
    let (count, key) = state
        .write(move |conn| {
            let a: AdjustmentBody = body.parse()?;
            let key = a.key.clone();
            let adjustment = Adjustment {
                key: a.key,
                period: a.period,
                delta: a.delta,
                reason: a.reason,
                evidence_reference: a.evidence_reference,
            };
            audit::adjust(conn, &actor, adjustment).map(|c| (c, key))
        })
        .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"key": key, "count": count})))
}

/// An adjustment as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema, Validate)]
#[schema(example = json!({"key": "pipl:acme-cn:non_sensitive", "period": "2026", "delta": 42000,
    "reason": "Exports from January to March, before the service counted them.", "evidence_reference": "DPO-2026-031"}))]
pub struct AdjustmentBody {
    #[validate(length(min = 1, max = 300))]
    pub key: String,
    #[validate(length(min = 4, max = 10))]
    pub period: String,
    #[validate(range(min = -1_000_000_000, max = 1_000_000_000))]
    pub delta: i64,
    #[validate(length(min = 1, max = 1000))]
    pub reason: String,
    #[validate(length(min = 1, max = 200))]
    pub evidence_reference: String,
}

/// What enforcing the transfer checks would change.
///
/// `grants`: active grants that carry a `transfer_mechanism` label and list no agreement — a
/// label is not evidence, so PRC exports that relied on one are denied until procurement
/// records the agreement. `decisions`: the latest decisions (200 at most) with `advisories`,
/// recorded under `VENDOR_REGISTRY_TRANSFER_ENFORCEMENT=report`, which enforcement would have
/// denied. Roles: admin, procurement, auditor.
#[utoipa::path(
    operation_id = "get_transfer_readiness",
    tag = "transfers",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(TransferRead::NAMES))),
    responses((status = 200, description = "What would flip.", body = Object,
        example = json!({"enforcement": "report", "grants": [{"grant": {"id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f",
            "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "transfer_mechanism": "standard_contract", "…": "…"},
            "would_flip": "the label standard_contract is not evidence: PRC exports under this grant need a recorded agreement"}],
            "decisions": [{"id": "0193a0c9-0000-7cc0-9d2a-0c1b2a3d4e5f", "outcome": "approved",
                "advisories": [{"code": "transfer_mechanism_missing", "regime": "pipl", "…": "…"}], "…": "…"}]})))
)]
#[get("/v1/transfer-readiness")]
pub async fn readiness(
    _auth: Auth<TransferRead>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (grants, decisions) = state
        .read(move |conn| {
            let g = crate::registry::grants::store::labelled_without_agreements(conn, 1000)?;
            let d = crate::decision::store::with_advisories(conn, 200)?;
            Ok::<_, ApiError>((g, d))
        })
        .await?;
    let now = crate::time::now();
    let grants: Vec<serde_json::Value> = grants
        .into_iter()
        .map(|g| {
            let mechanism = g.transfer_mechanism;
            serde_json::json!({"grant": g.view(now), "would_flip": format!(
                "the label {mechanism} is not evidence: PRC exports under this grant need a recorded agreement")})
        })
        .collect();
    let decisions = decisions
        .into_iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "enforcement": state.enforcement.as_str(),
        "grants": grants,
        "decisions": decisions,
    })))
}
