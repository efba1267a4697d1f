//! Streamed exports: pages are read off the async workers, one at a time, so a large export
//! never sits in memory whole.

use actix_web::web::{self, Bytes};
use futures_util::stream::{self, Stream};

use crate::db::{DbConn, Pool};
use crate::error::DomainError;

/// Streams the text of successive pages. `page(conn, after)` returns a page's text and the key
/// to continue after, or `None` when it was the last page.
pub fn pages<K, F>(
    pool: Pool,
    start: K,
    page: F,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>>
where
    K: Clone + Send + 'static,
    F: Fn(&mut DbConn, K) -> Result<(String, Option<K>), DomainError> + Clone + Send + 'static,
{
    stream::unfold(Some(start), move |state| {
        let pool = pool.clone();
        let page = page.clone();
        async move {
            let after = state?;
            let result = web::block(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                page(&mut conn, after).map_err(|e| e.to_string())
            })
            .await;
            match result {
                Ok(Ok((text, next))) => {
                    let next = if text.is_empty() { None } else { next };
                    Some((Ok(Bytes::from(text)), next))
                }
                Ok(Err(cause)) => Some((Err(interrupted(&cause)), None)),
                Err(e) => Some((Err(interrupted(&e.to_string())), None)),
            }
        }
    })
}

/// The response has started, so an error cuts the stream: the client sees an incomplete body,
/// never a silently short export.
fn interrupted(cause: &str) -> actix_web::Error {
    tracing::warn!(%cause, "export stopped");
    actix_web::error::ErrorServiceUnavailable("export interrupted")
}
