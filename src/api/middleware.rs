//! Per-request plumbing: the request id, the access log, and problem+json for every error the
//! framework itself answers.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use tracing::Instrument;

use super::error::{PROBLEM_JSON, Problem};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn client_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty() && value.len() <= 200 && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| value.to_owned())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = client_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method().clone();
    let path = req.path().to_owned();
    let started = Instant::now();
    let state = req
        .app_data::<actix_web::web::Data<super::state::AppState>>()
        .cloned();
    let span = tracing::info_span!("request", request_id = %id);
    let unknown = match &state {
        Some(state) if !req.query_string().is_empty() => {
            state.unknown_query_parameters(&method, &path, req.query_string())
        }
        _ => Vec::new(),
    };
    let res = if unknown.is_empty() {
        next.call(req)
            .instrument(span.clone())
            .await?
            .map_into_boxed_body()
    } else {
        use actix_web::ResponseError;
        let names: Vec<String> = unknown.iter().map(|n| format!("`{n}`")).collect();
        let refusal = super::error::ApiError::BadRequest(format!(
            "This operation takes no query parameter {}: it would be ignored, and the answer would not be the one asked for. The spec lists the parameters it takes.",
            names.join(", ")
        ));
        req.into_response(refusal.error_response())
    };
    let status = res.status();
    if let Some(state) = &state {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        state.metrics.request(
            &route,
            method.as_str(),
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // A page is ours too: the console answers its errors as pages.
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let mut res =
        if (status.is_client_error() || status.is_server_error()) && !is_problem && !is_page {
            // An error answered by actix itself (or a body that is not ours): same status, our form.
            let problem = Problem {
                kind: format!("urn:vendor-registry:problem:http-{}", status.as_u16()),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: status.canonical_reason().unwrap_or("Error").to_owned(),
                errors: None,
                current_version: None,
                current_etag: None,
            };
            let mut replacement = HttpResponse::build(status);
            for (name, value) in res.headers() {
                if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                    replacement.append_header((name.clone(), value.clone()));
                }
            }
            let replacement = replacement.content_type(PROBLEM_JSON).json(problem);
            res.into_response(replacement)
        } else {
            res.map_into_boxed_body()
        };
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            path = %path,
            status = status.as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        )
    });
    Ok(res)
}
