//! Reading an IAB TCF Global Vendor List (GVL specification v2 and v3) into vendor records,
//! mapped to the taxonomy through the fideslang crosswalk (© Ethyca, CC BY 4.0). Pure: no I/O.
//! Real lists carry defects; each one becomes a warning naming the vendor and the value, and
//! the import goes on.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

const USE_MAPPING: &str = include_str!("../../assets/fideslang/gvl_data_use_mapping.json");
const CATEGORY_MAPPING: &str =
    include_str!("../../assets/fideslang/gvl_data_category_mapping.json");

/// A defect found in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Warning {
    /// The GVL vendor id; null for a defect of the list itself.
    pub vendor_id: Option<i64>,
    /// The field concerned, e.g. `dataDeclaration`, `urls`, `purposes`.
    pub field: String,
    /// The offending value, as found.
    pub value: String,
    /// What was skipped or adjusted, and why.
    pub message: String,
}

/// What the register keeps of one vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vendor {
    pub id: i64,
    pub name: String,
    /// The English privacy policy when there is one, else the first; empty when none is usable.
    pub privacy_policy_url: String,
    pub declared_purposes: Vec<String>,
    pub declared_categories: Vec<String>,
    pub deleted_date: Option<String>,
}

/// The list as read.
#[derive(Debug, Clone)]
pub struct List {
    pub specification_version: i64,
    pub vendor_list_version: i64,
    /// The list's `lastUpdated` (RFC 3339, stored form), when it has a readable one.
    pub last_updated: Option<String>,
    pub vendors: Vec<Vendor>,
    pub warnings: Vec<Warning>,
}

struct Crosswalk {
    purposes: HashMap<i64, Vec<String>>,
    special_purposes: HashMap<i64, Vec<String>>,
    categories: HashMap<i64, Vec<String>>,
}

fn mapping(section: &Value, field: &str) -> HashMap<i64, Vec<String>> {
    section
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(id, v)| {
                    let keys = v[field]
                        .as_array()?
                        .iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect();
                    Some((id.parse().ok()?, keys))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn crosswalk() -> Crosswalk {
    let uses: Value = serde_json::from_str(USE_MAPPING).unwrap_or_default();
    let cats: Value = serde_json::from_str(CATEGORY_MAPPING).unwrap_or_default();
    Crosswalk {
        purposes: mapping(&uses["purposes"], "data_uses"),
        special_purposes: mapping(&uses["specialPurposes"], "data_uses"),
        categories: mapping(&cats, "fides_data_categories"),
    }
}

fn ids(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// Reads a GVL document. `known_purposes` and `known_categories` are the taxonomy's keys: a
/// crosswalk target outside them is reported, not stored.
pub fn read(
    doc: &Value,
    known_purposes: &HashSet<String>,
    known_categories: &HashSet<String>,
) -> Result<List, String> {
    let vendors = doc["vendors"]
        .as_object()
        .ok_or("not a Global Vendor List: no `vendors` object")?;
    let spec = doc["gvlSpecificationVersion"].as_i64().unwrap_or(2);
    let version = doc["vendorListVersion"]
        .as_i64()
        .ok_or("not a Global Vendor List: no `vendorListVersion`")?;
    let walk = crosswalk();
    let mut warnings = Vec::new();
    let mut out = BTreeMap::new();
    let mut entries: Vec<(&String, &Value)> = vendors.iter().collect();
    entries.sort_by_key(|(key, v)| (v["id"].as_i64().unwrap_or(i64::MAX), (*key).clone()));
    for (key, v) in entries {
        let id = match v["id"].as_i64() {
            Some(id) => id,
            None => {
                warnings.push(Warning {
                    vendor_id: None,
                    field: "id".into(),
                    value: key.clone(),
                    message: "vendor without a numeric id: skipped".into(),
                });
                continue;
            }
        };
        let mut warn = |field: &str, value: String, message: &str| {
            warnings.push(Warning {
                vendor_id: Some(id),
                field: field.into(),
                value,
                message: message.into(),
            })
        };
        let name = v["name"].as_str().map(str::trim).unwrap_or("");
        if name.is_empty() || name.len() > 300 {
            warn(
                "name",
                v["name"].to_string(),
                "missing or unusable name: vendor skipped",
            );
            continue;
        }
        let privacy_policy_url = privacy_url(v, spec, &mut warn);
        let mut purposes = BTreeSet::new();
        for (field, table) in [
            ("purposes", &walk.purposes),
            ("legIntPurposes", &walk.purposes),
            ("specialPurposes", &walk.special_purposes),
        ] {
            for p in ids(&v[field]) {
                match p.as_i64().and_then(|n| table.get(&n)) {
                    Some(keys) => {
                        for k in keys {
                            if known_purposes.contains(k) {
                                purposes.insert(k.clone());
                            } else {
                                warn(
                                    field,
                                    p.to_string(),
                                    &format!("maps to `{k}`, which is not in the taxonomy"),
                                );
                            }
                        }
                    }
                    None => warn(field, p.to_string(), "unknown purpose id"),
                }
            }
        }
        let mut categories = BTreeSet::new();
        match v.get("dataDeclaration") {
            Some(Value::Array(decl)) => {
                for c in decl {
                    match c.as_i64().and_then(|n| walk.categories.get(&n)) {
                        Some(keys) => {
                            for k in keys {
                                if known_categories.contains(k) {
                                    categories.insert(k.clone());
                                } else {
                                    warn(
                                        "dataDeclaration",
                                        c.to_string(),
                                        &format!("maps to `{k}`, which is not in the taxonomy"),
                                    );
                                }
                            }
                        }
                        None => warn("dataDeclaration", c.to_string(), "unknown data-category id"),
                    }
                }
            }
            Some(other) => warn(
                "dataDeclaration",
                other.to_string(),
                "not a list of data-category ids",
            ),
            None if spec >= 3 => warn("dataDeclaration", "null".into(), "missing data declaration"),
            None => {}
        }
        if spec >= 3 && v.get("cookieMaxAgeSeconds").is_some_and(Value::is_null) {
            warn(
                "cookieMaxAgeSeconds",
                "null".into(),
                "cookie lifetime not declared",
            );
        }
        let deleted_date = v["deletedDate"].as_str().map(str::to_owned);
        if let Some(d) = &deleted_date {
            warn(
                "deletedDate",
                d.clone(),
                "withdrawn from the GVL: the party can never be trusted",
            );
        }
        out.insert(
            id,
            Vendor {
                id,
                name: name.to_owned(),
                privacy_policy_url,
                declared_purposes: purposes.into_iter().collect(),
                declared_categories: categories.into_iter().collect(),
                deleted_date,
            },
        );
    }
    Ok(List {
        specification_version: spec,
        vendor_list_version: version,
        last_updated: doc["lastUpdated"]
            .as_str()
            .and_then(crate::time::parse)
            .map(crate::time::format),
        vendors: out.into_values().collect(),
        warnings,
    })
}

fn privacy_url(v: &Value, spec: i64, warn: &mut impl FnMut(&str, String, &str)) -> String {
    let (field, candidate) = if spec >= 3 || v.get("urls").is_some() {
        let urls = ids(&v["urls"]);
        let english = urls.iter().find(|u| {
            u["langId"].as_str().is_some_and(|l| {
                l.eq_ignore_ascii_case("en") || l.to_ascii_lowercase().starts_with("en-")
            })
        });
        let chosen = english.or(urls.first());
        (
            "urls",
            chosen.map(|u| u["privacy"].clone()).unwrap_or(Value::Null),
        )
    } else {
        ("policyUrl", v["policyUrl"].clone())
    };
    match candidate.as_str() {
        Some(url) if crate::registry::parties::is_https_url(url) => url.to_owned(),
        Some(url) => {
            warn(
                field,
                url.to_owned(),
                "privacy-policy URL is not an absolute https URL",
            );
            String::new()
        }
        None => {
            warn(field, candidate.to_string(), "no privacy-policy URL");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known() -> (HashSet<String>, HashSet<String>) {
        let p = crate::taxonomy::seed::purposes("t")
            .into_iter()
            .map(|p| p.key)
            .collect();
        let c = crate::taxonomy::seed::categories("t")
            .into_iter()
            .map(|c| c.key)
            .collect();
        (p, c)
    }

    #[test]
    fn each_defect_is_a_warning_naming_the_vendor_and_value() {
        let (p, c) = known();
        let doc = json!({"gvlSpecificationVersion": 3, "vendorListVersion": 9, "vendors": {
            "1": {"id": 1, "name": "Good", "purposes": [1], "specialPurposes": [1], "dataDeclaration": [1, 99],
                  "cookieMaxAgeSeconds": null,
                  "urls": [{"langId": "de", "privacy": "https://good.example/de"}, {"langId": "EN", "privacy": "https://good.example/en"}]},
            "2": {"id": 2, "name": "NoDecl", "purposes": [42], "urls": [{"langId": "fr", "privacy": "http://insecure.example"}], "cookieMaxAgeSeconds": 10},
            "3": {"id": 3, "name": "", "purposes": []},
            "4": {"id": 4, "name": "Gone", "deletedDate": "2023-01-01T00:00:00Z", "dataDeclaration": [], "cookieMaxAgeSeconds": 1,
                  "urls": [{"langId": "en", "privacy": "https://gone.example"}]}
        }});
        let list = read(&doc, &p, &c).unwrap();
        assert_eq!(
            list.vendors.iter().map(|v| v.id).collect::<Vec<_>>(),
            vec![1, 2, 4]
        );
        let good = &list.vendors[0];
        assert_eq!(good.privacy_policy_url, "https://good.example/en");
        assert_eq!(good.declared_categories, vec!["user.device.ip_address"]);
        assert_eq!(
            good.declared_purposes,
            vec![
                "essential.fraud_detection",
                "essential.service.security",
                "functional.storage"
            ]
        );
        let w: Vec<(Option<i64>, &str, &str)> = list
            .warnings
            .iter()
            .map(|w| (w.vendor_id, w.field.as_str(), w.value.as_str()))
            .collect();
        assert!(w.contains(&(Some(1), "dataDeclaration", "99")));
        assert!(w.contains(&(Some(1), "cookieMaxAgeSeconds", "null")));
        assert!(w.contains(&(Some(2), "purposes", "42")));
        assert!(w.contains(&(Some(2), "urls", "http://insecure.example")));
        assert!(w.contains(&(Some(2), "dataDeclaration", "null")));
        assert!(w.contains(&(Some(3), "name", "\"\"")));
        assert!(w.contains(&(Some(4), "deletedDate", "2023-01-01T00:00:00Z")));
        assert_eq!(list.vendors[1].privacy_policy_url, "");
        assert_eq!(
            list.vendors[2].deleted_date.as_deref(),
            Some("2023-01-01T00:00:00Z")
        );
    }

    #[test]
    fn a_v2_list_uses_policy_url_and_has_no_declarations() {
        let (p, c) = known();
        let doc = json!({"gvlSpecificationVersion": 2, "vendorListVersion": 51, "vendors": {
            "8": {"id": 8, "name": "Emerse", "purposes": [1, 3], "policyUrl": "https://www.emerse.com/privacy-policy/"}}});
        let list = read(&doc, &p, &c).unwrap();
        assert_eq!(
            list.vendors[0].privacy_policy_url,
            "https://www.emerse.com/privacy-policy/"
        );
        assert!(list.warnings.is_empty(), "{:?}", list.warnings);
        assert!(read(&json!({"vendors": []}), &p, &c).is_err());
    }
}
