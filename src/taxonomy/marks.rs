//! Changing the transfer-law marks of a key (docs/TRANSFERS.md "Marks on the taxonomy"): a
//! key's marks are its own and its ancestors'; a key cannot clear a mark its parent holds, and a
//! change reaches every descendant. Each changed key is one ledger entry, a register change.

use serde_json::Value;

use super::{Category, Purpose, covers, parent_of, store};
use crate::db::DbConn;
use crate::error::{DomainError, Expected};
use crate::ledger::{Subject, action};
use crate::types::DspClass;

/// New marks for a category; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct CategoryMarks {
    pub pipl_sensitive: Option<bool>,
    pub us_dsp_classes: Option<Vec<DspClass>>,
}

fn record_category(conn: &mut DbConn, actor: &Value, c: &Category) -> Result<(), DomainError> {
    store::set_category_marks(conn, c)?;
    let change = serde_json::to_value(c)?;
    crate::ledger::append(
        conn,
        actor,
        action::CATEGORY_MARKED,
        Subject::Category(&c.key),
        &change,
        true,
    )?;
    Ok(())
}

/// Sets a category's marks at the version `expected`, and brings its descendants along.
pub fn mark_category(
    conn: &mut DbConn,
    actor: &Value,
    key: &str,
    expected: &Expected,
    marks: impl FnOnce() -> Result<CategoryMarks, DomainError>,
) -> Result<Category, DomainError> {
    let mut target = store::find_category(conn, key)?.ok_or(DomainError::NotFound)?;
    expected.require(target.version)?;
    let m = marks()?;
    let parent = match parent_of(key) {
        Some(p) => store::find_category(conn, p)?,
        None => None,
    };
    let sensitive = m.pipl_sensitive.unwrap_or(target.pipl_sensitive);
    let mut classes = m
        .us_dsp_classes
        .unwrap_or_else(|| target.us_dsp_classes.0.clone());
    classes.sort();
    classes.dedup();
    if let Some(p) = &parent {
        if p.pipl_sensitive && !sensitive {
            return Err(DomainError::field(
                "pipl_sensitive",
                "is inherited from the parent and cannot be cleared here",
            ));
        }
        if let Some(c) = p.us_dsp_classes.iter().find(|c| !classes.contains(c)) {
            return Err(DomainError::field(
                "us_dsp_classes",
                format!("must keep {c}, inherited from the parent"),
            ));
        }
    }
    let added_sensitive = sensitive && !target.pipl_sensitive;
    let cleared_sensitive = !sensitive && target.pipl_sensitive;
    let added: Vec<DspClass> = classes
        .iter()
        .copied()
        .filter(|c| !target.us_dsp_classes.contains(c))
        .collect();
    let removed: Vec<DspClass> = target
        .us_dsp_classes
        .iter()
        .copied()
        .filter(|c| !classes.contains(c))
        .collect();
    if !added_sensitive && !cleared_sensitive && added.is_empty() && removed.is_empty() {
        return Ok(target);
    }
    target.pipl_sensitive = sensitive;
    target.us_dsp_classes = classes.into();
    target.version += 1;
    record_category(conn, actor, &target)?;
    for mut d in store::all_categories(conn)?
        .into_iter()
        .filter(|c| c.key != key && covers(key, &c.key))
    {
        let mut own: Vec<DspClass> = d
            .us_dsp_classes
            .iter()
            .copied()
            .filter(|c| !removed.contains(c))
            .collect();
        own.extend(added.iter().copied());
        own.sort();
        own.dedup();
        let pipl = (d.pipl_sensitive || added_sensitive) && !cleared_sensitive;
        if pipl == d.pipl_sensitive && own == d.us_dsp_classes.0 {
            continue;
        }
        d.pipl_sensitive = pipl;
        d.us_dsp_classes = own.into();
        d.version += 1;
        record_category(conn, actor, &d)?;
    }
    Ok(target)
}

/// Sets a purpose's `us_dsp_ancillary` at the version `expected`, with its descendants.
pub fn mark_purpose(
    conn: &mut DbConn,
    actor: &Value,
    key: &str,
    expected: &Expected,
    ancillary: impl FnOnce() -> Result<Option<bool>, DomainError>,
) -> Result<Purpose, DomainError> {
    let mut target = store::find_purpose(conn, key)?.ok_or(DomainError::NotFound)?;
    expected.require(target.version)?;
    let Some(value) = ancillary()? else {
        return Ok(target);
    };
    if !value
        && let Some(p) = parent_of(key)
        && store::find_purpose(conn, p)?.is_some_and(|p| p.us_dsp_ancillary)
    {
        return Err(DomainError::field(
            "us_dsp_ancillary",
            "is inherited from the parent and cannot be cleared here",
        ));
    }
    let mut changed: Vec<Purpose> = store::all_purposes(conn)?
        .into_iter()
        .filter(|p| covers(key, &p.key) && p.us_dsp_ancillary != value)
        .collect();
    for p in &mut changed {
        p.us_dsp_ancillary = value;
        p.version += 1;
        store::set_purpose_marks(conn, p)?;
        let change = serde_json::to_value(&*p)?;
        crate::ledger::append(
            conn,
            actor,
            action::PURPOSE_MARKED,
            Subject::Purpose(&p.key),
            &change,
            true,
        )?;
        if p.key == key {
            target = p.clone();
        }
    }
    Ok(target)
}
