//! The HTTP wing: every handler with its request and response types and its validators. A
//! handler extracts, calls one domain function, and maps the result; [`routes`] is the API map
//! and the source of the OpenAPI document.

pub mod agreements;
pub mod amendments;
pub mod audit;
pub mod auth;
mod body_errors;
pub mod console;
pub mod disclosure_exports;
pub mod docs;
pub mod entities;
pub mod error;
pub mod evaluate;
pub mod exports;
pub mod extract;
pub mod grants;
pub mod imports;
pub mod incidents;
pub mod legal;
pub mod middleware;
pub mod openapi;
mod openapi_examples;
mod openapi_formats;
pub mod operations;
pub mod pagination;
pub mod parties;
pub mod register_export;
pub mod register_import;
pub mod reminders;
pub mod routes;
pub mod scopes;
pub mod services;
pub mod sharing;
pub mod simulations;
pub mod state;
pub mod streaming;
pub mod taxonomy;
mod taxonomy_history;
pub mod transfers;
pub mod validators;
pub mod webhooks;
pub mod witness;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{App, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

pub use error::ApiError;
pub use state::AppState;

/// The OpenAPI document, collected from the registered handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    openapi::add_standard_errors(&mut api);
    openapi_examples::add(&mut api);
    openapi_formats::add(&mut api);
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api
}

/// The document as served and committed (`openapi/openapi.json`).
pub fn openapi_json(api: &utoipa::openapi::OpenApi) -> String {
    let mut text = api.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// The whole application.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .configure(routes::configure)
        .split_for_parts();
    app.app_data(state)
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            ApiError::BadRequest(format!("A query parameter is malformed: {err}.")).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
        .configure(docs::configure)
        .configure(console::configure)
        .default_service(web::to(fallback))
        .wrap(actix_web::middleware::from_fn(middleware::request_context))
}

/// No route matched: 405 when the path exists with other methods, else 404.
async fn fallback(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<String, ApiError> {
    let allowed: Vec<Method> = state
        .resources_of(req.path())
        .into_iter()
        .flat_map(|(_, methods)| methods.iter().map(|(m, _)| m.clone()))
        .collect();
    if allowed.is_empty() {
        Err(ApiError::NotFound)
    } else {
        Err(ApiError::MethodNotAllowed(allowed))
    }
}
