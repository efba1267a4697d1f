//! Who is using the console: the session cookie, the CSRF token every form carries, and the
//! extractors that check both before a handler runs.
//!
//! The session is the token the person signed in with (what `vendor-registry token` prints),
//! kept in an `HttpOnly`, `SameSite=Strict` cookie scoped to `/console` (`Secure` when the request
//! came over TLS), and verified on every request exactly as the API verifies a bearer token — so
//! an expired or revoked token ends the session, and the roles it carries are the API's roles.
//! A form's CSRF token is derived from the session token, which script cannot read; a POST
//! without it, or from another origin, is refused before anything is read from its body.

use std::future::{Ready, ready};

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use super::ConsoleError;
use super::forms::Fields;
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::auth::{Policy, Principal};

pub const COOKIE: &str = "vr_console";
/// The largest form body read (a register import's text is the largest form).
const FORM_LIMIT: usize = 8 * 1024 * 1024;

/// A signed-in person: their principal as the API would see it, and their forms' CSRF token.
pub struct Viewer {
    pub principal: Principal,
    pub csrf: String,
}

impl Viewer {
    /// Whether the API's policy `P` allows this person, as `Auth<P>` decides for a bearer.
    pub fn may<P: Policy>(&self) -> bool {
        self.principal.may::<P>()
    }

    /// A 403 unless policy `P` allows this person.
    pub fn require<P: Policy>(&self) -> Result<(), ConsoleError> {
        if self.may::<P>() {
            Ok(())
        } else {
            Err(ConsoleError::Api(ApiError::Forbidden(
                "Your roles do not allow this page or action.".into(),
            )))
        }
    }
}

/// The CSRF token of a session: a digest of the session token (which only the server and the
/// cookie hold), so it needs no storage and ends with the session.
pub fn csrf_of(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"vendor-registry console csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

fn state_of(req: &HttpRequest) -> Result<&web::Data<AppState>, ConsoleError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ConsoleError::Api(ApiError::Internal("application state missing".into())))
}

fn viewer_of(req: &HttpRequest) -> Result<Viewer, ConsoleError> {
    let state = state_of(req)?;
    let cookie = req.cookie(COOKIE).ok_or(ConsoleError::SignIn)?;
    let token = cookie.value();
    let principal = principal_of(state, token).map_err(|cause| {
        tracing::info!(cause, "console session refused");
        ConsoleError::SignIn
    })?;
    Ok(Viewer {
        principal,
        csrf: csrf_of(token),
    })
}

/// The principal of a session cookie: a console session (signed in with the provider) or an
/// API token (pasted), each checked as its issuer's rules say.
pub fn principal_of(state: &AppState, value: &str) -> Result<Principal, &'static str> {
    if super::Sessions::is_session(value) {
        state
            .console
            .verify(value, jsonwebtoken::get_current_timestamp())
    } else {
        state.keys.verify(value)
    }
}

/// Keeps `value` as the session: `HttpOnly`, `SameSite=Strict`, `/console` only, `Secure` over TLS.
pub fn session_cookie(req: &HttpRequest, value: String) -> Cookie<'static> {
    let secure = req.connection_info().scheme() == "https";
    Cookie::build(COOKIE, value)
        .path("/console")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish()
}

impl FromRequest for Viewer {
    type Error = ConsoleError;
    type Future = Ready<Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(viewer_of(req))
    }
}

/// Whether a POST comes from the console's own pages: `Sec-Fetch-Site` (when the browser sends
/// it) is same-origin, and `Origin` (when sent) is this host.
fn same_origin(req: &HttpRequest) -> bool {
    let headers = req.headers();
    let site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == "same-origin" || v == "none");
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|origin| {
            let info = req.connection_info();
            origin == format!("{}://{}", info.scheme(), info.host())
        });
    site_ok && origin_ok
}

/// Reads an `application/x-www-form-urlencoded` body of at most [`FORM_LIMIT`] bytes.
async fn read_form(req: &HttpRequest, payload: &mut Payload) -> Result<Fields, ConsoleError> {
    let is_form = crate::api::extract::media_type(req).is_some_and(|m| {
        m.type_() == mime::APPLICATION && m.subtype() == mime::WWW_FORM_URLENCODED
    });
    if !is_form {
        return Err(ConsoleError::BadForm(
            "The console takes forms (application/x-www-form-urlencoded).",
        ));
    }
    let body = crate::api::extract::read_limited(payload, FORM_LIMIT)
        .await
        .map_err(|_| ConsoleError::BadForm("The form is too large."))?;
    Ok(Fields::parse(&body))
}

/// A form posted by a signed-in person from the console's own pages, with its CSRF token.
pub struct Posted {
    pub viewer: Viewer,
    pub fields: Fields,
}

impl FromRequest for Posted {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The origin, then the session, before the body is read.
        let viewer = match same_origin(req).then(|| viewer_of(req)) {
            None => Err(ConsoleError::Csrf),
            Some(v) => v,
        };
        let read = SignInForm::from_request(req, payload);
        Box::pin(async move {
            let viewer = viewer?;
            let SignInForm(fields) = read.await?;
            if !constant_time_eq(fields.value("csrf").as_bytes(), viewer.csrf.as_bytes()) {
                return Err(ConsoleError::Csrf);
            }
            Ok(Posted { viewer, fields })
        })
    }
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A form from the console's own pages, its origin checked before its body is read: the sign-in
/// form as it is (there is no session yet), and the body of every [`Posted`].
pub struct SignInForm(pub Fields);

impl FromRequest for SignInForm {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !same_origin(&req) {
                return Err(ConsoleError::Csrf);
            }
            Ok(SignInForm(read_form(&req, &mut payload).await?))
        })
    }
}

/// What the sign-in button calls the provider, when one is configured.
pub fn provider_name(state: &AppState) -> Option<&str> {
    state
        .console
        .oidc
        .as_ref()
        .map(|c| c.settings.name.as_str())
}

/// `GET /console/sign-in`.
pub async fn sign_in_page(state: web::Data<AppState>) -> HttpResponse {
    super::html(
        StatusCode::OK,
        super::home::sign_in(None, provider_name(&state)),
    )
}

/// `POST /console/session`: checks the pasted token as the API would, then keeps it.
pub async fn sign_in(req: HttpRequest, form: SignInForm) -> Result<HttpResponse, ConsoleError> {
    let state = state_of(&req)?;
    let token = form.0.value("token").trim().to_owned();
    let claims = match state.keys.verify(&token) {
        Ok(p) => p,
        Err(cause) => {
            tracing::info!(cause, "console sign-in refused");
            let why = if token.is_empty() {
                "is required: paste the token `vendor-registry token` printed"
            } else {
                "is invalid or expired"
            };
            return Ok(super::html(
                StatusCode::UNAUTHORIZED,
                super::home::sign_in(Some(why), provider_name(state)),
            ));
        }
    };
    tracing::info!(sub = %claims.sub, "console sign-in");
    Ok(HttpResponse::SeeOther()
        .cookie(session_cookie(&req, token))
        .insert_header((header::LOCATION, "/console"))
        .finish())
}

/// `POST /console/sign-out`: forgets the session.
pub async fn sign_out(_posted: Posted) -> HttpResponse {
    let mut gone = Cookie::build(COOKIE, "")
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    gone.set_max_age(Duration::ZERO);
    HttpResponse::SeeOther()
        .cookie(gone)
        .insert_header((header::LOCATION, "/console/sign-in"))
        .finish()
}
