//! The default taxonomy: fideslang's data categories and data uses (© Ethyca, CC BY 4.0, copied
//! into `assets/fideslang/`), extended with what the privacy policy names and fideslang lacks.
//!
//! ## How categories are marked
//! The policy calls PII "name, telephone number, email address, postal address, and any other
//! information that identifies a person"; browser type, operating system, clickstream and cookies
//! are not PII but become PII once linked to a person who gave PII.
//! - **PII** (a grant is always needed): API.md's list — `user.name`, `user.contact`,
//!   `user.unique_id`, `user.government_id`, `user.account`, `user.authorization`,
//!   `user.financial`, `user.payment`, `user.biometric`, `user.health_and_medical`,
//!   `user.location.precise` — and, as "other information that identifies a person" or special
//!   categories that are never shared without a scope: `user.childrens`, `user.content`,
//!   `user.demographic`, `user.social`, `user.workplace`, `user.criminal_history`.
//! - **Linkable** (free alone, PII when sent with PII): `user.device`, `user.behavior` (with the
//!   policy's browser type, operating system and clickstream = `user.behavior.browsing_history`),
//!   and data that describes a person without naming them: `user.location` (imprecise),
//!   `user.telemetry`, `user.sensor`, `user.user_sensor`, `user.privacy_preferences`,
//!   `user.job_title`, and the root `user` itself, so that a key added under `user` later is at
//!   least linkable rather than free to share.
//! - **Neither**: `system` and its descendants.
//!
//! A key counts as PII in a decision when it or any descendant is PII, so a request for `user`
//! needs a grant on `user`.

use diesel::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::{Category, Purpose};
use crate::db::DbConn;
use crate::ledger::{Subject, action};
use crate::schema::{taxonomy_categories, taxonomy_purposes};
use crate::taxonomy::covers;
use crate::types::DspClass;

const CATEGORIES_JSON: &str = include_str!("../../assets/fideslang/data_categories.json");
const USES_JSON: &str = include_str!("../../assets/fideslang/data_uses.json");

const PII_ROOTS: &[&str] = &[
    "user.name",
    "user.contact",
    "user.unique_id",
    "user.government_id",
    "user.account",
    "user.authorization",
    "user.financial",
    "user.payment",
    "user.biometric",
    "user.health_and_medical",
    "user.location.precise",
    "user.childrens",
    "user.content",
    "user.demographic",
    "user.social",
    "user.workplace",
    "user.criminal_history",
];

const LINKABLE_ROOTS: &[&str] = &[
    "user",
    "user.device",
    "user.behavior",
    "user.location",
    "user.telemetry",
    "user.sensor",
    "user.user_sensor",
    "user.privacy_preferences",
    "user.job_title",
];

/// PIPL Art. 28's sensitive personal information; `user.government_id` and
/// `user.criminal_history` by choice (docs/TRANSFERS.md).
const PIPL_SENSITIVE: &[&str] = &[
    "user.biometric",
    "user.authorization.biometric",
    "user.health_and_medical",
    "user.financial",
    "user.payment",
    "user.location.precise",
    "user.childrens",
    "user.demographic.religious_belief",
    "user.government_id",
    "user.criminal_history",
];

/// The DSP's classes (28 CFR 202.249, 202.234).
const DSP_CLASSES: &[(&str, DspClass)] = &[
    ("user.health_and_medical.genetic", DspClass::Genomic),
    ("user.biometric", DspClass::Biometric),
    ("user.authorization.biometric", DspClass::Biometric),
    ("user.location.precise", DspClass::PreciseGeolocation),
    ("user.health_and_medical", DspClass::Health),
    ("user.financial", DspClass::Financial),
    ("user.payment", DspClass::Financial),
    ("user.government_id", DspClass::ListedIdentifier),
    ("user.unique_id", DspClass::ListedIdentifier),
    ("user.device.device_id", DspClass::ListedIdentifier),
    ("user.device.cookie_id", DspClass::ListedIdentifier),
    ("user.device.ip_address", DspClass::ListedIdentifier),
    ("user.account", DspClass::ListedIdentifier),
    ("user.authorization", DspClass::ListedIdentifier),
    ("user.contact", DspClass::ListedIdentifier),
    ("user.name", DspClass::ListedIdentifier),
    ("user.demographic", DspClass::ListedIdentifier),
];

/// Purposes ancillary to a corporate group's business (28 CFR 202.506).
const DSP_ANCILLARY: &[&str] = &[
    "employment",
    "finance",
    "essential.legal_obligation",
    "essential.service.operations.support",
    "essential.service.security",
    "essential.fraud_detection",
];

/// The seeded transfer-law marks of a category key (its own and those it inherits).
pub fn transfer_marks(key: &str) -> (bool, Vec<DspClass>) {
    let sensitive = PIPL_SENSITIVE.iter().any(|root| covers(root, key));
    let mut classes: Vec<DspClass> = DSP_CLASSES
        .iter()
        .filter(|(root, _)| covers(root, key))
        .map(|(_, c)| *c)
        .collect();
    classes.sort();
    classes.dedup();
    (sensitive, classes)
}

/// Whether a purpose key is seeded as ancillary (itself or an ancestor).
pub fn ancillary(key: &str) -> bool {
    DSP_ANCILLARY.iter().any(|root| covers(root, key))
}

/// `(key, name, description, parent)` added to fideslang's categories.
const EXTRA_CATEGORIES: &[(&str, &str, &str, &str)] = &[
    (
        "user.device.browser_type",
        "Browser Type",
        "The type and version of the web browser a person uses (named by the privacy policy).",
        "user.device",
    ),
    (
        "user.device.operating_system",
        "Operating System",
        "The operating system of a person's device (named by the privacy policy).",
        "user.device",
    ),
];

/// `(key, name, description, parent)` added to fideslang's data uses; all prohibited.
const EXTRA_PURPOSES: &[(&str, &str, &str, &str)] = &[
    (
        "third_party_sharing.sale",
        "Sale of Personal Data",
        "Selling personal data to a third party. The privacy policy forbids it: no grant can allow it.",
        "third_party_sharing",
    ),
    (
        "third_party_sharing.rental",
        "Rental of Personal Data",
        "Renting personal data to a third party. The privacy policy forbids it: no grant can allow it.",
        "third_party_sharing",
    ),
];

#[derive(Deserialize)]
struct FidesItem {
    fides_key: String,
    name: String,
    description: String,
    parent_key: Option<String>,
}

/// `(pii, linkable)` for a seeded category key.
pub fn default_marks(key: &str) -> (bool, bool) {
    if PII_ROOTS.iter().any(|root| covers(root, key)) {
        (true, false)
    } else if LINKABLE_ROOTS.iter().any(|root| covers(root, key)) {
        (false, true)
    } else {
        (false, false)
    }
}

fn load(json: &str, field: &str) -> Vec<FidesItem> {
    let root: Value = serde_json::from_str(json).expect("embedded fideslang file is valid JSON");
    serde_json::from_value(root[field].clone()).expect("embedded fideslang file has its shape")
}

/// The seeded categories, parents before children.
pub fn categories(at: &str) -> Vec<Category> {
    let mut items: Vec<Category> = load(CATEGORIES_JSON, "data_category")
        .into_iter()
        .map(|i| (i.fides_key, i.name, i.description, i.parent_key))
        .chain(
            EXTRA_CATEGORIES
                .iter()
                .map(|(k, n, d, p)| ((*k).into(), (*n).into(), (*d).into(), Some((*p).to_owned()))),
        )
        .map(|(key, name, description, parent)| {
            let (pii, linkable) = default_marks(&key);
            let (pipl_sensitive, classes) = transfer_marks(&key);
            Category {
                pipl_sensitive,
                us_dsp_classes: classes.into(),
                version: 1,
                key,
                name,
                description,
                parent,
                pii,
                linkable,
                created_at: at.into(),
            }
        })
        .collect();
    items.sort_by_key(|c| (c.key.matches('.').count(), c.key.clone()));
    items
}

/// The seeded purposes, parents before children.
pub fn purposes(at: &str) -> Vec<Purpose> {
    let mut items: Vec<Purpose> = load(USES_JSON, "data_use")
        .into_iter()
        .map(|i| (i.fides_key, i.name, i.description, i.parent_key, false))
        .chain(EXTRA_PURPOSES.iter().map(|(k, n, d, p)| {
            (
                (*k).into(),
                (*n).into(),
                (*d).into(),
                Some((*p).to_owned()),
                true,
            )
        }))
        .map(|(key, name, description, parent, prohibited)| Purpose {
            us_dsp_ancillary: ancillary(&key),
            version: 1,
            key,
            name,
            description,
            parent,
            prohibited,
            created_at: at.into(),
        })
        .collect();
    items.sort_by_key(|p| (p.key.matches('.').count(), p.key.clone()));
    items
}

/// Seeds the taxonomy into an empty register, one ledger entry per key. Call inside a write
/// transaction; does nothing when the taxonomy is already there.
pub fn ensure(conn: &mut DbConn) -> Result<(), crate::error::DomainError> {
    let existing: i64 = taxonomy_categories::table.count().get_result(conn)?;
    if existing > 0 {
        return Ok(());
    }
    let at = crate::time::format(crate::time::now());
    let actor = crate::ledger::system_actor();
    for c in categories(&at) {
        diesel::insert_into(taxonomy_categories::table)
            .values(&c)
            .execute(conn)?;
        let change = serde_json::to_value(&c).unwrap_or_default();
        crate::ledger::append(
            conn,
            &actor,
            action::CATEGORY_CREATED,
            Subject::Category(&c.key),
            &change,
            true,
        )?;
    }
    for p in purposes(&at) {
        diesel::insert_into(taxonomy_purposes::table)
            .values(&p)
            .execute(conn)?;
        let change = serde_json::to_value(&p).unwrap_or_default();
        crate::ledger::append(
            conn,
            &actor,
            action::PURPOSE_CREATED,
            Subject::Purpose(&p.key),
            &change,
            true,
        )?;
    }
    Ok(())
}

/// Writes the seeded transfer-law marks to a register seeded before they existed: each key the
/// defaults mark and that does not carry them gets them, one `category.marked` or
/// `purpose.marked` entry each, unless a marks change was recorded for it already (then the
/// register's own choice stands). Call inside a write transaction.
pub fn ensure_marks(conn: &mut DbConn) -> Result<usize, crate::error::DomainError> {
    let actor = crate::ledger::system_actor();
    let mut written = 0;
    for mut c in super::store::all_categories(conn)? {
        let (sensitive, classes) = transfer_marks(&c.key);
        let missing_class = classes.iter().any(|k| !c.us_dsp_classes.contains(k));
        if (!sensitive || c.pipl_sensitive) && !missing_class {
            continue;
        }
        let subject = Subject::Category(&c.key).to_string();
        if crate::ledger::store::subject_has_action(conn, &subject, action::CATEGORY_MARKED)? {
            continue;
        }
        c.pipl_sensitive |= sensitive;
        let mut all = c.us_dsp_classes.0.clone();
        all.extend(classes);
        all.sort();
        all.dedup();
        c.us_dsp_classes = all.into();
        c.version += 1;
        super::store::set_category_marks(conn, &c)?;
        let change = serde_json::to_value(&c)?;
        crate::ledger::append(
            conn,
            &actor,
            action::CATEGORY_MARKED,
            Subject::Category(&c.key),
            &change,
            true,
        )?;
        written += 1;
    }
    for mut p in super::store::all_purposes(conn)? {
        if p.us_dsp_ancillary || !ancillary(&p.key) {
            continue;
        }
        let subject = Subject::Purpose(&p.key).to_string();
        if crate::ledger::store::subject_has_action(conn, &subject, action::PURPOSE_MARKED)? {
            continue;
        }
        p.us_dsp_ancillary = true;
        p.version += 1;
        super::store::set_purpose_marks(conn, &p)?;
        let change = serde_json::to_value(&p)?;
        crate::ledger::append(
            conn,
            &actor,
            action::PURPOSE_MARKED,
            Subject::Purpose(&p.key),
            &change,
            true,
        )?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_marks_are_applied() {
        assert_eq!(default_marks("user.contact.email"), (true, false));
        assert_eq!(default_marks("user.location.precise"), (true, false));
        assert_eq!(default_marks("user.location.imprecise"), (false, true));
        assert_eq!(default_marks("user.device.cookie_id"), (false, true));
        assert_eq!(
            default_marks("user.behavior.browsing_history"),
            (false, true)
        );
        assert_eq!(default_marks("system.operations"), (false, false));
    }

    #[test]
    fn every_seeded_parent_exists_and_comes_first() {
        let cats = categories("t");
        let mut seen = std::collections::HashSet::new();
        for c in &cats {
            if let Some(p) = &c.parent {
                assert!(seen.contains(p), "{} before its parent {}", c.key, p);
            }
            seen.insert(c.key.clone());
        }
        assert!(seen.contains("user.device.browser_type"));
        let purposes = purposes("t");
        assert!(
            purposes
                .iter()
                .any(|p| p.key == "third_party_sharing.sale" && p.prohibited)
        );
        assert!(
            purposes
                .iter()
                .any(|p| p.key == "marketing.communications.email" && !p.prohibited)
        );
    }
}
