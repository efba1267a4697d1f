//! The HTTP side of authentication: the bearer token is checked and the operation's policy
//! applied before anything else is read from the request.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};

use super::error::ApiError;
use super::state::AppState;
use crate::auth::{Policy, Principal};

/// An authenticated principal allowed by policy `P`.
pub struct Auth<P>(pub Principal, PhantomData<P>);

impl<P: Policy> FromRequest for Auth<P> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|p| {
            if P::ROLES.iter().any(|r| p.has(*r)) {
                Ok(Auth(p, PhantomData))
            } else {
                Err(ApiError::Forbidden(
                    "Your roles do not allow this operation.".into(),
                ))
            }
        }))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("A bearer token is required."))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("Malformed Authorization."))?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(ApiError::Unauthorized("Use the Bearer scheme.")),
    };
    state.keys.verify(token).map_err(|cause| {
        // The cause, never the token.
        tracing::info!(cause, "bearer token refused");
        ApiError::Unauthorized("The bearer token is invalid or expired.")
    })
}
