//! The console: pages for people — procurement, services' owners, counsel and auditors — served
//! under `/console` by the same binary, on the same domain commands, policies and request
//! validators as the API. A form is turned into the JSON body the API's request type parses
//! ([`forms`]), and handed to the same command; a page reads what the API's reads read. Nothing
//! here decides a rule: it shows what the domains answer.
//!
//! Pages are rendered on the server (maud) and work without script; the vendored htmx
//! (`assets/htmx/`) and `console.js` only enhance them (the category picker's search, answers in
//! place). Nothing is downloaded at build or run time.

mod audit;
mod counsel;
mod evaluate;
mod forms;
mod home;
mod imports;
mod layout;
mod oidc;
mod parties;
mod party_edit;
mod party_forms;
mod party_page;
mod session;
mod sessions;
mod volumes;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError, web};
use maud::Markup;

use super::error::ApiError;
use crate::error::DomainError;

pub use session::{COOKIE, csrf_of};
pub use sessions::Sessions;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(home::home))
        .route("/console/", web::get().to(home::home))
        .route("/console/sign-in", web::get().to(session::sign_in_page))
        .route("/console/session", web::post().to(session::sign_in))
        .route("/console/sign-out", web::post().to(session::sign_out))
        .route("/console/oidc/start", web::get().to(oidc::start))
        .route("/console/oidc/callback", web::get().to(oidc::callback))
        .route("/console/assets/{file}", web::get().to(asset))
        .route("/console/parties", web::get().to(parties::list))
        .route("/console/imports", web::get().to(imports::form))
        .route("/console/imports", web::post().to(imports::import))
        .route("/console/parties", web::post().to(party_forms::create))
        .route(
            "/console/parties/new",
            web::get().to(party_forms::new_party),
        )
        .route("/console/parties/{id}", web::get().to(parties::vendor))
        .route(
            "/console/parties/{id}/edit",
            web::get().to(party_edit::edit),
        )
        .route(
            "/console/parties/{id}/edit",
            web::post().to(party_edit::update),
        )
        .route(
            "/console/parties/{id}/status",
            web::post().to(party_forms::status),
        )
        .route(
            "/console/parties/{id}/grants",
            web::post().to(party_forms::grant),
        )
        .route(
            "/console/parties/{id}/agreements",
            web::post().to(party_forms::agreement),
        )
        .route(
            "/console/grants/{id}/approve",
            web::post().to(party_forms::approve),
        )
        .route("/console/evaluate", web::get().to(evaluate::form_page))
        .route("/console/evaluate", web::post().to(evaluate::evaluate))
        .route("/console/incidents", web::get().to(counsel::incidents))
        .route("/console/incidents", web::post().to(counsel::open_incident))
        .route("/console/incidents/{id}", web::get().to(counsel::incident))
        .route(
            "/console/incidents/{id}/exposure.csv",
            web::get().to(counsel::exposure_csv_of),
        )
        .route(
            "/console/legal-requests",
            web::get().to(counsel::legal_requests),
        )
        .route("/console/decisions", web::get().to(audit::decisions))
        .route("/console/decisions/{id}", web::get().to(audit::decision))
        .route("/console/ledger", web::get().to(audit::ledger))
        .route(
            "/console/exports/decisions.csv",
            web::get().to(audit::decisions_csv),
        )
        .route(
            "/console/exports/register.csv",
            web::get().to(audit::register_csv),
        );
}

/// What a console request can end in besides its page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No session, or its token no longer verifies: to the sign-in page.
    #[error("sign in")]
    SignIn,
    /// A POST without the form's CSRF token, or from another origin.
    #[error("csrf")]
    Csrf,
    #[error("bad form: {0}")]
    BadForm(&'static str),
    /// What the API would have answered.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<DomainError> for ConsoleError {
    fn from(e: DomainError) -> Self {
        ConsoleError::Api(e.into())
    }
}

impl ConsoleError {
    /// The problem this ends in, worded as the API words it.
    fn problem(&self) -> crate::api::error::Problem {
        let api = match self {
            ConsoleError::Api(e) => return e.problem(),
            ConsoleError::SignIn => ApiError::Unauthorized("Sign in to use the console."),
            ConsoleError::Csrf => ApiError::Forbidden(
                "This form did not come from the console's own page (its CSRF token is missing or \
                 wrong). Nothing was changed: reload the page and send it again."
                    .into(),
            ),
            ConsoleError::BadForm(why) => ApiError::BadRequest((*why).into()),
        };
        api.problem()
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Api(e) => e.status_code(),
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::BadForm(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ConsoleError::SignIn = self {
            return redirect("/console/sign-in");
        }
        // Logs the cause as the API does; the page shows only the problem.
        if let ConsoleError::Api(e) = self {
            drop(e.error_response());
        }
        html(self.status_code(), home::problem_page(&self.problem()))
    }
}

/// A console page: HTML, never cached, framed by nobody, scripts and styles only its own.
pub fn html(status: StatusCode, body: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body.into_string())
}

/// `303 See Other` to `to`: where a form lands after it succeeded.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The console's own files, compiled into the binary.
async fn asset(file: web::Path<String>) -> HttpResponse {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "htmx.min.js" => (
            include_bytes!("../../../assets/htmx/htmx.min.js"),
            "text/javascript",
        ),
        "console.js" => (
            include_bytes!("../../../assets/console/console.js"),
            "text/javascript",
        ),
        "console.css" => (
            include_bytes!("../../../assets/console/console.css"),
            "text/css",
        ),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}
