//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::state::AppState;

/// A probe's answer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// `ok`, or what is not ready.
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive.", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers and the ledger can be written.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "Ready to serve.", body = Health),
    (status = 503, description = "Storage or the ledger is unreachable.", body = Health),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.ready().await {
        true => HttpResponse::Ok().json(Health { status: "ok" }),
        false => HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .json(Health {
                status: "storage unavailable",
            }),
    }
}

/// Prometheus metrics.
///
/// Request latency by route and status, decisions by outcome and reason code, ledger batch size
/// and commit latency, database pool use, incident duties overdue. No ids, principals or personal data. Public.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format.", content_type = "text/plain", body = String,
    example = json!("# TYPE decisions_total counter\ndecisions_total{outcome=\"approved\"} 1284\nhttp_request_duration_seconds_bucket{route=\"/v1/sharing-requests\",method=\"POST\",status=\"201\",le=\"0.005\"} 1279\n"))))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut text = state
        .metrics
        .render(&state.pool, &crate::decision::engine::ALL_CODES, {
            let integrity = &state.ledger_keys.integrity;
            (!integrity.is_broken(), integrity.failures())
        });
    let now = crate::time::format(crate::time::now());
    // Left out when storage cannot be read: an absent gauge alerts, a false zero would not.
    if let Ok(overdue) = state
        .read(move |conn| crate::disclosures::incidents::store::overdue_duties(conn, &now))
        .await
    {
        crate::metrics::gauge(
            &mut text,
            "vendor_registry_incident_duties_overdue",
            "Incident notification duties pending past their deadline.",
            overdue,
        );
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
