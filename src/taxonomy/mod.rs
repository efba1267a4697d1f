//! The taxonomy of data categories and purposes: hierarchical dotted keys, where a key covers
//! itself and its descendants.

pub mod commands;
pub mod marks;
pub mod seed;
pub mod store;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::{taxonomy_categories, taxonomy_purposes};
use crate::types::DspClass;
use crate::types::List;

/// A data category.
#[derive(
    Debug, Clone, Serialize, serde::Deserialize, ToSchema, Queryable, Insertable, Selectable,
)]
#[diesel(table_name = taxonomy_categories)]
#[schema(example = json!({"key": "user.contact.email", "name": "Email", "description": "User's email address.",
    "parent": "user.contact", "pii": true, "linkable": false, "created_at": "2026-11-29T10:00:00.000000Z"}))]
pub struct Category {
    /// Dotted key; covers itself and its descendants.
    pub key: String,
    /// A short human name.
    pub name: String,
    /// What the category covers.
    pub description: String,
    /// The parent key; null for a root.
    pub parent: Option<String>,
    /// Personal data: sharing it always needs a grant.
    pub pii: bool,
    /// Not PII alone, but treated as PII when sent together with PII (cookies, device ids,
    /// browsing history).
    pub linkable: bool,
    pub created_at: String,
    /// Sensitive personal information under PIPL Art. 28 (inherited by descendants).
    #[serde(default)]
    pub pipl_sensitive: bool,
    /// Classes of the US Data Security Program (28 CFR 202.249; inherited by descendants).
    #[serde(default)]
    #[schema(value_type = Vec<crate::types::DspClass>)]
    pub us_dsp_classes: List<DspClass>,
    /// Increases with every change of its marks; send it back in `If-Match`.
    #[serde(default = "first")]
    pub version: i64,
}

fn first() -> i64 {
    1
}

/// A purpose (data use).
#[derive(
    Debug, Clone, Serialize, serde::Deserialize, ToSchema, Queryable, Insertable, Selectable,
)]
#[diesel(table_name = taxonomy_purposes)]
#[schema(example = json!({"key": "third_party_sharing.sale", "name": "Sale of Personal Data",
    "description": "Selling personal data.", "parent": "third_party_sharing", "prohibited": true,
    "created_at": "2026-11-29T10:00:00.000000Z"}))]
pub struct Purpose {
    /// Dotted key; a service declared for a purpose may use its descendants too.
    pub key: String,
    /// A short human name.
    pub name: String,
    /// What the purpose covers.
    pub description: String,
    /// The broader purpose it narrows (its key without the last segment); null at the top.
    pub parent: Option<String>,
    /// Forbidden by the privacy policy (sale, rental): no grant can allow it.
    pub prohibited: bool,
    pub created_at: String,
    /// Ancillary to the corporate group's business (28 CFR 202.506: employment, finance,
    /// legal, support, security, fraud); inherited by descendants.
    #[serde(default)]
    pub us_dsp_ancillary: bool,
    /// Increases with every change of its marks; send it back in `If-Match`.
    #[serde(default = "first")]
    pub version: i64,
}

/// Which part of the taxonomy a list of keys must come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Categories,
    Purposes,
}

/// True when `ancestor` is `key` or one of its ancestors (`user.contact` covers
/// `user.contact.email`, never the reverse, and never `user.contactless`).
pub fn covers(ancestor: &str, key: &str) -> bool {
    key == ancestor
        || (key.len() > ancestor.len()
            && key.starts_with(ancestor)
            && key.as_bytes()[ancestor.len()] == b'.')
}

/// The parent of a dotted key (`user.contact` for `user.contact.email`).
pub fn parent_of(key: &str) -> Option<&str> {
    key.rfind('.').map(|i| &key[..i])
}

pub use crate::types::keys::is_well_formed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_covers_itself_and_descendants_only() {
        assert!(covers("user.contact", "user.contact"));
        assert!(covers("user.contact", "user.contact.email"));
        assert!(covers("user", "user.contact.address.city"));
        assert!(!covers("user.contact.email", "user.contact"));
        assert!(!covers("user.contact", "user.contactless"));
        assert!(!covers("user.contact", "user.name"));
    }

    #[test]
    fn keys_are_lowercase_dotted_segments() {
        assert!(is_well_formed("user.device.browser_type"));
        assert!(!is_well_formed("user..email"));
        assert!(!is_well_formed("User.email"));
        assert!(!is_well_formed("user.email "));
        assert!(!is_well_formed(""));
        assert_eq!(parent_of("user.contact.email"), Some("user.contact"));
        assert_eq!(parent_of("user"), None);
    }
}
