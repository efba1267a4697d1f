//! Request extraction that answers every failure as a problem, in the order API.md gives:
//! the body's size, media type and syntax first (413, 415, 400), its content later (422), so
//! that a handler can answer 404 and 412/428 before judging the content.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use validator::Validate;

use super::error::ApiError;
use crate::error::{DomainError, Expected, FieldError};

/// The largest JSON body accepted.
pub const JSON_LIMIT: usize = 64 * 1024;

/// Fields the server owns; naming one in a request body is refused with this explanation.
const SERVER_OWNED: &[&str] = &[
    "id",
    "status",
    "version",
    "region",
    "party_id",
    "created_by",
    "created_at",
    "updated_at",
    "status_reason",
    "revoked_reason",
    "revoked_at",
    "effective",
    "decided_at",
    "ledger_seq",
    "outcome",
    "reasons",
    "grants",
    "service",
];

/// The request's `Content-Type`, parsed.
pub(super) fn media_type(req: &HttpRequest) -> Option<mime::Mime> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
}

/// The body, read whole: a 413 as soon as it passes `limit` bytes.
pub(super) async fn read_limited<S, E>(
    payload: &mut S,
    limit: usize,
) -> Result<web::BytesMut, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
{
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::BadRequest("The body could not be read.".into()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A well-formed JSON body of at most `LIMIT` bytes, not yet judged for content (see
/// [`JsonBody::parse`]).
pub struct JsonBody<const LIMIT: usize = JSON_LIMIT>(pub Value);

impl<const LIMIT: usize> FromRequest for JsonBody<LIMIT> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let is_json = media_type(req).is_some_and(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        });
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_len.is_some_and(|n| n > LIMIT) {
                return Err(ApiError::PayloadTooLarge(LIMIT));
            }
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let body = read_limited(&mut payload, LIMIT).await?;
            let value: Value = serde_json::from_slice(&body).map_err(|e| {
                ApiError::BadRequest(format!(
                    "The body is not well-formed JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                ))
            })?;
            Ok(JsonBody(value))
        })
    }
}

impl<const LIMIT: usize> JsonBody<LIMIT> {
    /// Judges the body's content: unknown and server-owned fields, types, then the field rules.
    pub fn parse<T: DeserializeOwned + Validate>(&self) -> Result<T, DomainError> {
        parse_value(&self.0)
    }
}

/// Deserialises and validates `value` as `T`, collecting every unknown field at once.
pub fn parse_value<T: DeserializeOwned + Validate>(value: &Value) -> Result<T, DomainError> {
    if !value.is_object() {
        return Err(DomainError::field("body", "must be a JSON object"));
    }
    let mut errors: Vec<FieldError> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let parsed: Result<T, _> = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        value,
        &mut |path: serde_ignored::Path| unknown.push(path.to_string()),
    ));
    for field in unknown {
        let message = if SERVER_OWNED.contains(&field.as_str()) {
            "is set by the server and cannot be sent"
        } else {
            "is not a field of this request"
        };
        errors.push(FieldError::new(field, message));
    }
    match parsed {
        Err(e) => {
            errors.extend(super::body_errors::every_error::<T>(
                value,
                super::body_errors::type_error(e),
            ));
            Err(DomainError::Invalid(errors))
        }
        Ok(_) if !errors.is_empty() => Err(DomainError::Invalid(errors)),
        Ok(parsed) => {
            parsed
                .validate()
                .map_err(|e| DomainError::Invalid(super::body_errors::flatten(&e, "")))?;
            Ok(parsed)
        }
    }
}

/// The versions named by a strong `If-Match`, read up front but judged by the domain command
/// only after the object is found (404 comes before 428 and 412).
pub struct IfMatch(pub Expected);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(header::IF_MATCH) else {
            return std::future::ready(Ok(IfMatch(Expected(None))));
        };
        std::future::ready(parse_if_match(value.to_str().unwrap_or("\u{0}")).map(IfMatch))
    }
}

/// Reads `If-Match`: empty or `*` (which name no version, so the command answers 428) or a list of
/// strong ETags of this API, `"<version>"`. Anything else is a 400 showing the expected form.
fn parse_if_match(value: &str) -> Result<Expected, ApiError> {
    let value = value.trim();
    // An empty header is a missing one.
    if value == "*" || value.is_empty() {
        return Ok(Expected(None));
    }
    let malformed = |why: &str| {
        ApiError::BadRequest(format!(
            "Malformed If-Match: {why}. Send the ETag the object was read with, quotes included, e.g. If-Match: \"3\"."
        ))
    };
    let mut versions = Vec::new();
    for tag in value.split(',').map(str::trim) {
        if tag.starts_with("W/") {
            return Err(malformed("a weak ETag cannot match (RFC 9110 §13.1.1)"));
        }
        let version = tag
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .ok_or_else(|| malformed("an ETag is quoted"))?
            .parse::<i64>()
            .map_err(|_| malformed("this API's ETags are versions, a number in quotes"))?;
        versions.push(version);
    }
    Ok(Expected(Some(versions)))
}

/// `ETag` for a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The answer with a versioned object: `body` with its `ETag`, and `Location` when it was
/// just created.
pub fn versioned(
    status: actix_web::http::StatusCode,
    version: i64,
    location: Option<String>,
    body: &impl serde::Serialize,
) -> actix_web::HttpResponse {
    let mut res = actix_web::HttpResponse::build(status);
    res.insert_header((header::ETAG, etag(version)));
    if let Some(location) = location {
        res.insert_header((header::LOCATION, location));
    }
    res.json(body)
}
