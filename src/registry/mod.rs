//! The register: internal services, parties (vendors and affiliates), and their grants.

pub mod country;
pub mod grants;
pub mod parties;
pub mod services;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::{ApiError, FieldError};
use crate::schema::{taxonomy_categories, taxonomy_purposes};

/// List columns are stored as JSON arrays of strings.
pub fn list_to_text(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub fn text_to_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Which part of the taxonomy a list of keys must come from.
#[derive(Clone, Copy)]
pub enum Taxonomy {
    Categories,
    Purposes,
}

/// 422 for every key of `keys` that the taxonomy does not hold, naming `field[i]`.
pub fn check_known(
    conn: &mut DbConn,
    taxonomy: Taxonomy,
    field: &str,
    keys: &[String],
) -> Result<(), ApiError> {
    let known: Vec<String> = match taxonomy {
        Taxonomy::Categories => taxonomy_categories::table
            .filter(taxonomy_categories::key.eq_any(keys))
            .select(taxonomy_categories::key)
            .load(conn)?,
        Taxonomy::Purposes => taxonomy_purposes::table
            .filter(taxonomy_purposes::key.eq_any(keys))
            .select(taxonomy_purposes::key)
            .load(conn)?,
    };
    let errors: Vec<FieldError> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !known.contains(k))
        .map(|(i, _)| FieldError::new(format!("{field}[{i}]"), "is not a key of the taxonomy"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// 422 for duplicates in a list.
pub fn check_unique(field: &str, items: &[String]) -> Result<(), ApiError> {
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(ApiError::field(format!("{field}[{i}]"), "is listed twice"));
        }
    }
    Ok(())
}
