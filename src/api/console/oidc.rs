//! Signing in with the company's OpenID Connect provider (`VENDOR_REGISTRY_OIDC_*`): the browser
//! goes to the provider with a fresh state, nonce and PKCE challenge, kept meanwhile in a
//! short-lived cookie of its own; back at the callback the state must match, the code is traded
//! for an ID token, and the person's roles (from the configured claim) become a console session.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::ConsoleError;
use super::session::{provider_name, session_cookie};
use crate::api::error::ApiError;
use crate::api::state::AppState;

const FLOW: &str = "vr_oidc";
const FLOW_PATH: &str = "/console/oidc";

fn refused(state: &AppState, why: &str) -> HttpResponse {
    tracing::info!(why, "provider sign-in refused");
    super::html(
        StatusCode::UNAUTHORIZED,
        super::home::sign_in(
            Some("was not accepted: sign in with the provider again, or paste a token"),
            provider_name(state),
        ),
    )
}

/// `GET /console/oidc/start`: to the provider.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let client = state.console.oidc.clone().ok_or(ApiError::NotFound)?;
    let begun = web::block(move || client.start())
        .await
        .map_err(|e| ConsoleError::Api(ApiError::Internal(e.to_string())))?;
    let begun = match begun {
        Ok(b) => b,
        Err(cause) => {
            tracing::warn!(%cause, "identity provider unreachable");
            return Err(ConsoleError::Api(ApiError::Unavailable(cause)));
        }
    };
    // Lax, not Strict: the provider's redirect back is a navigation from another site.
    let flow = Cookie::build(
        FLOW,
        format!("{}.{}.{}", begun.state, begun.nonce, begun.verifier),
    )
    .path(FLOW_PATH)
    .http_only(true)
    .secure(req.connection_info().scheme() == "https")
    .same_site(SameSite::Lax)
    .max_age(Duration::minutes(10))
    .finish();
    Ok(HttpResponse::SeeOther()
        .cookie(flow)
        .insert_header((header::LOCATION, begun.url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

#[derive(serde::Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /console/oidc/callback`: back from the provider.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Callback>,
) -> Result<HttpResponse, ConsoleError> {
    let client = state.console.oidc.clone().ok_or(ApiError::NotFound)?;
    let q = query.into_inner();
    if let Some(e) = &q.error {
        return Ok(refused(&state, &format!("the provider answered {e}")));
    }
    let flow = req
        .cookie(FLOW)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let mut parts = flow.splitn(3, '.');
    let (Some(expected), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(refused(&state, "no sign-in under way in this browser"));
    };
    let (Some(code), Some(sent)) = (q.code, q.state) else {
        return Ok(refused(&state, "the provider sent no code"));
    };
    if !super::session::constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Ok(refused(&state, "the state is not this browser's sign-in"));
    }
    let (nonce, verifier) = (nonce.to_owned(), verifier.to_owned());
    let finished = web::block(move || client.finish(&code, &verifier, &nonce))
        .await
        .map_err(|e| ConsoleError::Api(ApiError::Internal(e.to_string())))?;
    let principal = match finished {
        Ok(p) => p,
        Err(why) => return Ok(refused(&state, &why)),
    };
    tracing::info!(sub = %principal.sub, "console sign-in with the provider");
    let session = state
        .console
        .mint(&principal, jsonwebtoken::get_current_timestamp());
    let mut done = Cookie::build(FLOW, "").path(FLOW_PATH).finish();
    done.set_max_age(Duration::ZERO);
    // A page, not a redirect: the session cookie is SameSite=Strict, and a browser does not send
    // it on a redirect that continues the provider's cross-site navigation; this page's own
    // navigation to the console is same-site.
    let page = super::layout::document(
        "Signed in",
        html! { header.top { span.brand { "vendor-registry" } } },
        html! {
            p { "You are signed in as " strong { (principal.sub) } ". " a href="/console" { "Continue to the console" } }
        },
    );
    let mut res = super::html(StatusCode::OK, page);
    res.headers_mut().insert(
        header::HeaderName::from_static("refresh"),
        header::HeaderValue::from_static("0; url=/console"),
    );
    res.add_cookie(&session_cookie(&req, session))
        .map_err(|e| ConsoleError::Api(ApiError::Internal(e.to_string())))?;
    res.add_cookie(&done)
        .map_err(|e| ConsoleError::Api(ApiError::Internal(e.to_string())))?;
    Ok(res)
}
