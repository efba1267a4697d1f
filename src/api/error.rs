//! The one error type of the API, answered as RFC 9457 `application/problem+json`; the domains'
//! errors are mapped to it here, once.
//!
//! Internal causes are logged here and never returned: a client sees a status, a title and a
//! detail written for it, never SQL, a file path or a panic message.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::DomainError;
pub use crate::error::FieldError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "urn:vendor-registry:problem:validation", "title": "Unprocessable Content",
    "status": 422, "detail": "The request has invalid fields.",
    "errors": [{"field": "country", "message": "not an ISO 3166-1 alpha-2 code"}]}))]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The invalid fields, for validation failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// On a 412: the object's version now (also in the `ETag` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// On a 412: the ETag to send in `If-Match` after re-reading the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_etag: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed(Vec<Method>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("payload too large")]
    PayloadTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("precondition failed")]
    PreconditionFailed(i64),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("ledger integrity: {0}")]
    LedgerIntegrity(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    fn slug_title_detail(&self) -> (&'static str, &'static str, String) {
        match self {
            ApiError::Unauthorized(why) => ("unauthorized", "Unauthorized", (*why).to_owned()),
            ApiError::Forbidden(why) => ("forbidden", "Forbidden", why.clone()),
            ApiError::NotFound => ("not-found", "Not Found", "No such resource.".into()),
            ApiError::MethodNotAllowed(_) => (
                "method-not-allowed",
                "Method Not Allowed",
                "This resource does not support that method.".into(),
            ),
            ApiError::BadRequest(why) => ("bad-request", "Bad Request", why.clone()),
            ApiError::PayloadTooLarge(limit) => (
                "payload-too-large",
                "Content Too Large",
                format!("The body is larger than the limit of {limit} bytes."),
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported-media-type",
                "Unsupported Media Type",
                "The body must be application/json.".into(),
            ),
            ApiError::PreconditionRequired => (
                "precondition-required",
                "Precondition Required",
                "Send If-Match with the object's current ETag.".into(),
            ),
            ApiError::PreconditionFailed(current) => (
                "precondition-failed",
                "Precondition Failed",
                format!(
                    "The object has changed since that ETag: it is at version {current} now (ETag \"{current}\"). Fetch it again, then retry with If-Match: \"{current}\"."
                ),
            ),
            ApiError::Validation(_) => (
                "validation",
                "Unprocessable Content",
                "The request has invalid fields.".into(),
            ),
            ApiError::Conflict(why) => ("conflict", "Conflict", why.clone()),
            ApiError::Unavailable(_) => (
                "unavailable",
                "Service Unavailable",
                "Storage cannot be written right now; nothing was changed. Retry later.".into(),
            ),
            ApiError::LedgerIntegrity(_) => (
                "ledger-integrity",
                "Service Unavailable",
                "The ledger no longer matches its signed checkpoints: this node signs nothing and \
                 takes no writes until the ledger is restored. GET /v1/audit/verify locates the \
                 first bad entry."
                    .into(),
            ),
            ApiError::Internal(_) => (
                "internal",
                "Internal Server Error",
                "Internal Server Error".into(),
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title, detail) = self.slug_title_detail();
        Problem {
            kind: format!("urn:vendor-registry:problem:{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            current_version: match self {
                ApiError::PreconditionFailed(v) => Some(*v),
                _ => None,
            },
            current_etag: match self {
                ApiError::PreconditionFailed(v) => Some(super::extract::etag(*v)),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) | ApiError::LedgerIntegrity(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "storage unavailable"),
            ApiError::LedgerIntegrity(cause) => tracing::error!(%cause, "ledger integrity"),
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(PROBLEM_JSON);
        match self {
            ApiError::Unauthorized(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    r#"Bearer realm="vendor-registry", error="invalid_token""#,
                ));
            }
            ApiError::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::PreconditionFailed(current) => {
                res.insert_header((header::ETAG, super::extract::etag(*current)));
            }
            ApiError::MethodNotAllowed(allowed) => {
                let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
                res.insert_header((header::ALLOW, allow.join(", ")));
            }
            _ => {}
        }
        res.json(self.problem())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound => ApiError::NotFound,
            DomainError::Invalid(errors) => ApiError::Validation(errors),
            DomainError::Conflict(why) => ApiError::Conflict(why),
            DomainError::NotPermitted(why) => ApiError::Forbidden(why),
            DomainError::VersionRequired => ApiError::PreconditionRequired,
            DomainError::VersionMismatch { current } => ApiError::PreconditionFailed(current),
            DomainError::Unavailable(cause) => ApiError::Unavailable(cause),
            DomainError::LedgerIntegrity(cause) => ApiError::LedgerIntegrity(cause),
            DomainError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        DomainError::from(e).into()
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}
