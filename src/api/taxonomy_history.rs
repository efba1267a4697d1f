//! The taxonomy as the ledger recorded it: one key, or a page of keys, at an instant.

use actix_web::HttpResponse;
use serde_json::Value;

use super::error::ApiError;
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use crate::error::DomainError;

/// What the ledger last recorded of a taxonomy key up to `at`, with `as_of_ledger_seq` (404 when
/// the key did not exist then).
pub(super) async fn as_recorded<T>(
    state: &AppState,
    subject: String,
    at: String,
) -> Result<HttpResponse, ApiError>
where
    T: serde::de::DeserializeOwned + serde::Serialize + Send + 'static,
{
    let (item, seq) = state
        .read(move |conn| crate::ledger::store::state_at::<T>(conn, &subject, &at))
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut body = serde_json::to_value(item).map_err(DomainError::from)?;
    body["as_of_ledger_seq"] = serde_json::json!(seq);
    Ok(HttpResponse::Ok().json(body))
}

/// A page of taxonomy keys of `kind` (`category` or `purpose`: the ledger subject's kind) as
/// the ledger recorded them up to `at`, by key, each with `as_of_ledger_seq`; keys added later
/// are left out, and the page is filled past them.
pub(super) async fn page_as_of<T>(
    state: &AppState,
    kind: &'static str,
    page: PageRequest,
    at: String,
) -> Result<HttpResponse, ApiError>
where
    T: serde::de::DeserializeOwned + serde::Serialize + Send + 'static,
{
    let result = state
        .read(move |conn| -> Result<Page<Value>, DomainError> {
            let keys = crate::taxonomy::store::keys_after(conn, kind, page.after.as_deref())?;
            let subjects: Vec<String> = keys.iter().map(|k| format!("{kind}:{k}")).collect();
            let states = crate::ledger::store::states_in_order::<T>(
                conn,
                &subjects,
                &at,
                page.fetch() as usize,
                |_| true,
            )?;
            let items = states
                .into_iter()
                .map(|(item, seq)| {
                    let mut body = serde_json::to_value(item)?;
                    body["as_of_ledger_seq"] = serde_json::json!(seq);
                    Ok(body)
                })
                .collect::<Result<Vec<Value>, DomainError>>()?;
            Ok(page.finish(items, |v| v["key"].as_str().unwrap_or("").to_owned(), |v| v))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
