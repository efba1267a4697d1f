//! Extending the taxonomy: a new key sits under an existing parent and inherits its marks.

use serde_json::Value;

use super::{Category, Purpose, is_well_formed, parent_of, store};
use crate::db::DbConn;
use crate::error::DomainError;
use crate::ledger::{Subject, action};

/// A new data category: `pii` and `linkable` default to the parent's marks.
#[derive(Debug, Clone)]
pub struct NewCategory {
    pub key: String,
    pub name: String,
    pub description: String,
    pub parent: String,
    pub pii: Option<bool>,
    pub linkable: Option<bool>,
}

/// A new purpose: `prohibited` defaults to the parent's mark.
#[derive(Debug, Clone)]
pub struct NewPurpose {
    pub key: String,
    pub name: String,
    pub description: String,
    pub parent: String,
    pub prohibited: Option<bool>,
}

/// The key must be the parent's plus one well-formed segment.
pub fn check_key(key: &str, parent: &str) -> Result<(), DomainError> {
    if !is_well_formed(key) {
        return Err(DomainError::field(
            "key",
            "must be dot-separated segments of lowercase letters, digits and underscores",
        ));
    }
    if parent_of(key) != Some(parent) {
        return Err(DomainError::field(
            "key",
            "must be the parent key plus one more segment",
        ));
    }
    Ok(())
}

/// Adds a category; a mark of the parent cannot be weakened. One ledger entry.
pub fn create_category(
    conn: &mut DbConn,
    actor: &Value,
    new: NewCategory,
) -> Result<Category, DomainError> {
    check_key(&new.key, &new.parent)?;
    let parent = store::find_category(conn, &new.parent)?
        .ok_or_else(|| DomainError::field("parent", "no such category"))?;
    if new.pii == Some(false) && parent.pii {
        return Err(DomainError::field(
            "pii",
            "cannot be false under a PII parent",
        ));
    }
    if new.linkable == Some(false) && parent.linkable {
        return Err(DomainError::field(
            "linkable",
            "cannot be false under a linkable parent",
        ));
    }
    let pii = new.pii.unwrap_or(false) || parent.pii;
    let category = Category {
        linkable: !pii && (new.linkable.unwrap_or(false) || parent.linkable),
        pii,
        key: new.key,
        name: new.name,
        description: new.description,
        parent: Some(new.parent),
        created_at: crate::time::format(crate::time::now()),
        // Transfer-law marks are inherited: a child can neither drop nor clear one.
        pipl_sensitive: parent.pipl_sensitive,
        us_dsp_classes: parent.us_dsp_classes,
        version: 1,
    };
    store::insert_category(conn, &category)?;
    let change = serde_json::to_value(&category)?;
    crate::ledger::append(
        conn,
        actor,
        action::CATEGORY_CREATED,
        Subject::Category(&category.key),
        &change,
        true,
    )?;
    Ok(category)
}

/// Adds a purpose; a child of a prohibited purpose is prohibited. One ledger entry.
pub fn create_purpose(
    conn: &mut DbConn,
    actor: &Value,
    new: NewPurpose,
) -> Result<Purpose, DomainError> {
    check_key(&new.key, &new.parent)?;
    let parent = store::find_purpose(conn, &new.parent)?
        .ok_or_else(|| DomainError::field("parent", "no such purpose"))?;
    if new.prohibited == Some(false) && parent.prohibited {
        return Err(DomainError::field(
            "prohibited",
            "cannot be false under a prohibited parent",
        ));
    }
    let purpose = Purpose {
        prohibited: new.prohibited.unwrap_or(false) || parent.prohibited,
        key: new.key,
        name: new.name,
        description: new.description,
        parent: Some(new.parent),
        created_at: crate::time::format(crate::time::now()),
        us_dsp_ancillary: parent.us_dsp_ancillary,
        version: 1,
    };
    store::insert_purpose(conn, &purpose)?;
    let change = serde_json::to_value(&purpose)?;
    crate::ledger::append(
        conn,
        actor,
        action::PURPOSE_CREATED,
        Subject::Purpose(&purpose.key),
        &change,
        true,
    )?;
    Ok(purpose)
}
