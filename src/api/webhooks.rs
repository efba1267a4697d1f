//! Outbound webhooks: register an endpoint for event types, list and delete it, and read every
//! delivery and failure.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::state::AppState;
use crate::auth::WebhookOwner;
use crate::webhooks::{Delivery, EventType, Webhook, commands, store};

/// A new webhook.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"url": "https://hooks.example/vendor-registry",
    "event_types": ["grant.revoked", "party.suspended", "grant.expiring"]}))]
pub struct NewWebhook {
    /// Where events are POSTed: an absolute https URL (no user or password in it).
    #[validate(length(min = 1, max = 2000))]
    pub url: String,
    /// The events to receive, 1–50; each must be one the caller's role may read (a service:
    /// `grant.*` events, of its own grants only).
    #[validate(length(min = 1, max = 50))]
    pub event_types: Vec<EventType>,
}

/// Register a webhook.
///
/// Events are POSTed as JSON (`id`, `type`, `occurred_at`, `ledger_seq`, `subject`, `data`) with
/// the Standard Webhooks headers `webhook-id` (the event id: de-duplicate on it, since delivery
/// is at least once), `webhook-timestamp` (Unix seconds) and `webhook-signature`
/// (`v1,` and the base64 HMAC-SHA256, keyed with the secret's base64 after `whsec_`, of
/// `{webhook-id}.{webhook-timestamp}.{body}`). A 2xx answer is a delivery; anything else is
/// retried with doubling delays. The secret is in this answer only. Roles: admin, procurement,
/// service (each sees and deletes its own; an admin all).
#[utoipa::path(
    operation_id = "create_webhook",
    tag = "webhooks",
    request_body = NewWebhook,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(WebhookOwner::NAMES))),
    responses((status = 201, description = "The webhook, with its secret (shown once).", body = Webhook,
        headers(("Location" = String, description = "The webhook's URL."))))
)]
#[post("/v1/webhooks")]
pub async fn create(
    auth: Auth<WebhookOwner>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.0;
    let settings = state.webhooks.clone();
    let hook = state
        .write(move |conn| {
            let b: NewWebhook = body.parse()?;
            commands::create(
                conn,
                &actor,
                &settings,
                commands::Draft {
                    url: b.url,
                    event_types: b.event_types,
                },
            )
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Location", format!("/v1/webhooks/{}", hook.id)))
        .json(hook))
}

/// List webhooks.
///
/// A principal's own; an admin's, every one. Roles: admin, procurement, service.
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(WebhookOwner::NAMES))),
    responses((status = 200, description = "The webhooks, oldest first.", body = Vec<Webhook>))
)]
#[get("/v1/webhooks")]
pub async fn list(
    auth: Auth<WebhookOwner>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.0;
    let rows = state
        .read(move |conn| {
            let owner = (!actor.has(crate::auth::Role::Admin)).then_some(actor.sub.as_str());
            store::list(conn, owner)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(Webhook::from).collect::<Vec<_>>()))
}

/// Get a webhook.
///
/// Roles: admin, procurement, service (its own; another's is a 404).
#[utoipa::path(
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("id" = String, Path, description = "The webhook id.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(WebhookOwner::NAMES))),
    responses((status = 200, description = "The webhook.", body = Webhook))
)]
#[get("/v1/webhooks/{id}")]
pub async fn get(
    auth: Auth<WebhookOwner>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (auth.0, path.into_inner());
    let row = state
        .read(move |conn| commands::find_visible(conn, &actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(Webhook::from(row)))
}

/// Delete a webhook.
///
/// Nothing more is sent to it (deliveries still due are given up); its deliveries stay
/// readable. Roles: admin, procurement, service (its own).
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = String, Path, description = "The webhook id.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(WebhookOwner::NAMES))),
    responses(
        (status = 200, description = "The webhook, inactive.", body = Webhook),
        (status = 409, description = "Deleted already.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/webhooks/{id}")]
pub async fn remove(
    auth: Auth<WebhookOwner>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (auth.0, path.into_inner());
    let hook = state
        .write(move |conn| commands::delete(conn, &actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(hook))
}

/// The page of `GET /v1/webhooks/{id}/deliveries`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// At most this many, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Only events older than this event id (the last of the previous page).
    before: Option<String>,
}

/// List a webhook's deliveries.
///
/// Newest event first: each event's attempts, when it was delivered or given up, when it is
/// tried next, and the last status and error. Roles: admin, procurement, service (its own).
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(("id" = String, Path, description = "The webhook id."), DeliveriesQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(WebhookOwner::NAMES))),
    responses((status = 200, description = "The deliveries, newest event first.", body = Vec<Delivery>))
)]
#[get("/v1/webhooks/{id}/deliveries")]
pub async fn deliveries(
    auth: Auth<WebhookOwner>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("limit", "must be from 1 to 200"));
    }
    let (actor, id, before) = (auth.0, path.into_inner(), query.before.clone());
    let page = state
        .read(move |conn| -> Result<_, crate::error::DomainError> {
            commands::find_visible(conn, &actor, &id)?;
            Ok(store::deliveries(conn, &id, before.as_deref(), limit)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
