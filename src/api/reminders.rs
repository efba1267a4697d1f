//! `GET /v1/reminders`: what procurement must act on soon.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Auth;
use super::error::ApiError;
use super::state::AppState;
use crate::auth::RegisterRead;
use crate::registry::reminders::{self, Reminder};

/// The window of `GET /v1/reminders`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WithinQuery {
    /// Days ahead, 0–366 (default 30).
    #[param(minimum = 0, maximum = 366)]
    within_days: Option<i64>,
}

/// What is due from now until `until`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reminders {
    /// The horizon asked for, in days from now.
    pub within_days: i64,
    /// The end of that horizon (RFC 3339, UTC).
    pub until: String,
    /// Overdue reviews and certifications first, then soonest first.
    pub items: Vec<Reminder>,
}

/// List what falls due soon.
///
/// Reviews due (`next_review_due`) and DPF certifications lapsing (`dpf_certified_until`) on or
/// before the window's last day — already past ones too, marked `overdue` — active grants
/// and agreements in force whose `valid_until` falls within it, and sub-processors' objection
/// deadlines from today to the window's last day. Offboarded parties are left out. Roles: admin, procurement, auditor, legal.
#[utoipa::path(
    operation_id = "list_reminders",
    tag = "parties",
    params(WithinQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterRead::NAMES))),
    responses((status = 200, description = "What falls due.", body = Reminders))
)]
#[get("/v1/reminders")]
pub async fn list(
    _auth: Auth<RegisterRead>,
    state: web::Data<AppState>,
    query: web::Query<WithinQuery>,
) -> Result<HttpResponse, ApiError> {
    let within_days = query.within_days.unwrap_or(30);
    if !(0..=366).contains(&within_days) {
        return Err(ApiError::field("within_days", "must be from 0 to 366"));
    }
    let now = crate::time::now();
    let items = state
        .read(move |conn| reminders::due(conn, now, within_days))
        .await?;
    Ok(HttpResponse::Ok().json(Reminders {
        within_days,
        until: crate::time::format(now + chrono::Duration::days(within_days)),
        items,
    }))
}
