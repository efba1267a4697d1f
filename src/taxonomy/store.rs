//! The taxonomy tables.

use diesel::prelude::*;

use super::{Category, Part, Purpose};
use crate::db::DbConn;
use crate::error::{DomainError, FieldError};
use crate::schema::{taxonomy_categories, taxonomy_purposes};

/// Every category key with its effective marks (for validation and decisions).
pub fn all_categories(conn: &mut DbConn) -> QueryResult<Vec<Category>> {
    taxonomy_categories::table
        .select(Category::as_select())
        .load(conn)
}

/// Every purpose.
pub fn all_purposes(conn: &mut DbConn) -> QueryResult<Vec<Purpose>> {
    taxonomy_purposes::table
        .select(Purpose::as_select())
        .load(conn)
}

/// Categories with a key after `after`, by key, at most `limit`.
pub fn category_page(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Category>> {
    let mut q = taxonomy_categories::table.into_boxed();
    if let Some(after) = after {
        q = q.filter(taxonomy_categories::key.gt(after.to_owned()));
    }
    q.order(taxonomy_categories::key.asc())
        .limit(limit)
        .select(Category::as_select())
        .load(conn)
}

/// Purposes with a key after `after`, by key, at most `limit`.
/// Every key of `kind` (`category` or `purpose`) after `after`, in order.
pub fn keys_after(conn: &mut DbConn, kind: &str, after: Option<&str>) -> QueryResult<Vec<String>> {
    let after = after.unwrap_or("").to_owned();
    if kind == "purpose" {
        taxonomy_purposes::table
            .filter(taxonomy_purposes::key.gt(after))
            .order(taxonomy_purposes::key.asc())
            .select(taxonomy_purposes::key)
            .load(conn)
    } else {
        taxonomy_categories::table
            .filter(taxonomy_categories::key.gt(after))
            .order(taxonomy_categories::key.asc())
            .select(taxonomy_categories::key)
            .load(conn)
    }
}

pub fn purpose_page(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Purpose>> {
    let mut q = taxonomy_purposes::table.into_boxed();
    if let Some(after) = after {
        q = q.filter(taxonomy_purposes::key.gt(after.to_owned()));
    }
    q.order(taxonomy_purposes::key.asc())
        .limit(limit)
        .select(Purpose::as_select())
        .load(conn)
}

pub fn find_category(conn: &mut DbConn, key: &str) -> QueryResult<Option<Category>> {
    taxonomy_categories::table
        .find(key)
        .select(Category::as_select())
        .first(conn)
        .optional()
}

pub fn find_purpose(conn: &mut DbConn, key: &str) -> QueryResult<Option<Purpose>> {
    taxonomy_purposes::table
        .find(key)
        .select(Purpose::as_select())
        .first(conn)
        .optional()
}

pub fn insert_category(conn: &mut DbConn, c: &Category) -> QueryResult<()> {
    diesel::insert_into(taxonomy_categories::table)
        .values(c)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_purpose(conn: &mut DbConn, p: &Purpose) -> QueryResult<()> {
    diesel::insert_into(taxonomy_purposes::table)
        .values(p)
        .execute(conn)
        .map(|_| ())
}

/// Invalid input for every key of `keys` that the taxonomy does not hold, naming `field[i]`.
pub fn check_known(
    conn: &mut DbConn,
    part: Part,
    field: &str,
    keys: &[String],
) -> Result<(), DomainError> {
    let known: Vec<String> = match part {
        Part::Categories => taxonomy_categories::table
            .filter(taxonomy_categories::key.eq_any(keys))
            .select(taxonomy_categories::key)
            .load(conn)?,
        Part::Purposes => taxonomy_purposes::table
            .filter(taxonomy_purposes::key.eq_any(keys))
            .select(taxonomy_purposes::key)
            .load(conn)?,
    };
    let unknown: Vec<(usize, &String)> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !known.contains(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    // Only now every key, for the hints.
    let all: Vec<String> = match part {
        Part::Categories => taxonomy_categories::table
            .select(taxonomy_categories::key)
            .load(conn)?,
        Part::Purposes => taxonomy_purposes::table
            .select(taxonomy_purposes::key)
            .load(conn)?,
    };
    let errors = unknown
        .into_iter()
        .map(|(i, k)| {
            FieldError::new(
                format!("{field}[{i}]"),
                crate::types::hints::key_message(k, all.iter().map(String::as_str)),
            )
        })
        .collect();
    crate::error::collect(errors)
}

/// Writes a category's transfer-law marks.
pub fn set_category_marks(conn: &mut DbConn, c: &Category) -> QueryResult<()> {
    diesel::update(taxonomy_categories::table.find(&c.key))
        .set((
            taxonomy_categories::pipl_sensitive.eq(c.pipl_sensitive),
            taxonomy_categories::us_dsp_classes.eq(&c.us_dsp_classes),
            taxonomy_categories::version.eq(c.version),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Writes a purpose's transfer-law mark.
pub fn set_purpose_marks(conn: &mut DbConn, p: &Purpose) -> QueryResult<()> {
    diesel::update(taxonomy_purposes::table.find(&p.key))
        .set((
            taxonomy_purposes::us_dsp_ancillary.eq(p.us_dsp_ancillary),
            taxonomy_purposes::version.eq(p.version),
        ))
        .execute(conn)
        .map(|_| ())
}
