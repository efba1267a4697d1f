//! Cursor pagination: `?limit=` (1–200, default 50) and an opaque `?cursor=`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page, in the list's order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A validated page request: how many items, and the sort key to continue after.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn new(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", "must be between 1 and 200"));
        }
        let after = match cursor {
            None => None,
            Some(c) => Some(
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|s| s.starts_with("c1:"))
                    .map(|s| s[3..].to_owned())
                    .ok_or_else(|| ApiError::field("cursor", "is not a cursor this API issued"))?,
            ),
        };
        Ok(PageRequest { limit, after })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to the page and makes the cursor from the last one kept.
    pub fn finish<R, T>(
        &self,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> String,
        view: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last()
                .map(|r| URL_SAFE_NO_PAD.encode(format!("c1:{}", key(r))))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_outside_range_and_foreign_cursors_are_rejected() {
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(201), None).is_err());
        assert!(PageRequest::new(Some(200), None).is_ok());
        assert!(PageRequest::new(None, Some("not-base64!")).is_err());
        assert!(PageRequest::new(None, Some(&URL_SAFE_NO_PAD.encode("x"))).is_err());
    }

    #[test]
    fn cursor_round_trips_through_finish() {
        let req = PageRequest::new(Some(2), None).unwrap();
        let page = req.finish(vec![1, 2, 3], |n| n.to_string(), |n| n);
        assert_eq!(page.items, vec![1, 2]);
        let next = PageRequest::new(Some(2), page.next_cursor.as_deref()).unwrap();
        assert_eq!(next.after.as_deref(), Some("2"));
        let last = next.finish(vec![3], |n| n.to_string(), |n| n);
        assert_eq!(last.next_cursor, None);
    }
}
