//! The rule set: reference data of the law (EEA, adequacy, countries of concern, thresholds,
//! each reason code's rule), compiled into the binary as data and served whole at
//! `GET /v1/transfer-rules`. Its SHA-256 is recorded in the ledger when a node first runs it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{DspClass, Regime};
use crate::types::Countries;

/// The rule set this binary runs.
pub const CURRENT_JSON: &str = include_str!("rules/2026-01.json");

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CountryList {
    pub source: String,
    pub countries: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Adequacy {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// `dpf_certification`: adequate only for recipients certified on the day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AdequacyList {
    pub source: String,
    pub entries: Vec<Adequacy>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Pipl {
    pub source: String,
    pub year_offset_hours: i64,
    pub non_sensitive_contract_from: i64,
    pub non_sensitive_assessment_from: i64,
    pub sensitive_assessment_from: i64,
    pub assessment_valid_years: i32,
    pub filing_due_days: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UsDsp {
    pub source: String,
    pub window_days: i64,
    pub covered_ownership_percent: u32,
    pub bulk_more_than: BTreeMap<DspClass, i64>,
}

/// The rule set as published.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Published {
    pub version: String,
    pub published: NaiveDate,
    pub dates: String,
    pub eea: CountryList,
    pub gdpr_adequacy: AdequacyList,
    pub us_dsp_countries_of_concern: CountryList,
    pub pipl: Pipl,
    pub us_dsp: UsDsp,
    /// Reason code → regime → the rule it names.
    pub reasons: BTreeMap<String, BTreeMap<Regime, String>>,
}

/// The rule set, indexed for the engine.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub published: Published,
    /// SHA-256 of the published JSON text, lowercase hex.
    pub sha256: String,
    eea: Countries,
    concern: Countries,
}

impl RuleSet {
    /// Parses a published rule set.
    pub fn parse(text: &str) -> Result<RuleSet, String> {
        let published: Published =
            serde_json::from_str(text).map_err(|e| format!("the rule set does not parse: {e}"))?;
        let set = |list: &[String]| {
            let mut c = Countries::default();
            for code in list {
                c.insert(code);
            }
            c
        };
        for class in [
            DspClass::Genomic,
            DspClass::Biometric,
            DspClass::PreciseGeolocation,
            DspClass::Health,
            DspClass::Financial,
            DspClass::CoveredIdentifier,
        ] {
            if !published.us_dsp.bulk_more_than.contains_key(&class) {
                return Err(format!("the rule set has no bulk threshold for {class}"));
            }
        }
        Ok(RuleSet {
            eea: set(&published.eea.countries),
            concern: set(&published.us_dsp_countries_of_concern.countries),
            sha256: crate::ledger::chain::sha256_hex(text.as_bytes()),
            published,
        })
    }

    /// The rule set compiled into this binary.
    pub fn current() -> &'static RuleSet {
        static CURRENT: OnceLock<RuleSet> = OnceLock::new();
        CURRENT.get_or_init(|| RuleSet::parse(CURRENT_JSON).expect("the compiled rule set parses"))
    }

    pub fn version(&self) -> &str {
        &self.published.version
    }

    pub fn in_eea(&self, country: &str) -> bool {
        self.eea.contains(country)
    }

    /// A DSP country of concern (China including HK and MO).
    pub fn of_concern(&self, country: &str) -> bool {
        self.concern.contains(country)
    }

    /// Whether GDPR treats `country` as adequate on `day` (EEA countries are inside the area, so
    /// adequate too); `dpf_until` is the recipient's DPF certification, for the US.
    pub fn adequate(&self, country: &str, day: NaiveDate, dpf_until: Option<NaiveDate>) -> bool {
        if self.in_eea(country) {
            return true;
        }
        self.published.gdpr_adequacy.entries.iter().any(|a| {
            a.country == country
                && a.valid_from.is_none_or(|f| f <= day)
                && a.valid_until.is_none_or(|u| day <= u)
                && match a.requires.as_deref() {
                    None => true,
                    Some("dpf_certification") => dpf_until.is_some_and(|d| d >= day),
                    Some(_) => false,
                }
        })
    }

    /// The bulk threshold of a class ("more than").
    pub fn bulk_more_than(&self, class: DspClass) -> i64 {
        self.published
            .us_dsp
            .bulk_more_than
            .get(&class)
            .copied()
            .unwrap_or(0)
    }

    /// The rule a reason code names under a regime.
    pub fn rule(&self, code: &str, regime: Regime) -> &str {
        self.published
            .reasons
            .get(code)
            .and_then(|r| r.get(&regime))
            .map_or("", String::as_str)
    }

    /// The whole rule set as served, with its hash.
    pub fn document(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.published).unwrap_or_default();
        v["sha256"] = self.sha256.clone().into();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_compiled_rule_set_parses_and_names_a_rule_for_every_transfer_code() {
        let r = RuleSet::current();
        assert_eq!(r.version(), "2026-01");
        assert_eq!(r.sha256.len(), 64);
        for code in super::super::TransferCode::ALL {
            assert!(
                r.published.reasons.contains_key(code.as_str()),
                "{code:?} has no rule"
            );
        }
    }

    #[test]
    fn the_eea_includes_outermost_regions_and_the_efta_three() {
        let r = RuleSet::current();
        for c in ["DE", "FR", "RE", "AX", "MF", "IS", "LI", "NO"] {
            assert!(r.in_eea(c), "{c}");
        }
        for c in ["CH", "GB", "US", "NC"] {
            assert!(!r.in_eea(c), "{c}");
        }
    }

    #[test]
    fn adequacy_has_dated_edges() {
        let r = RuleSet::current();
        assert!(!r.adequate("BR", day("2026-01-25"), None));
        assert!(r.adequate("BR", day("2026-01-26"), None));
        assert!(r.adequate("GB", day("2031-12-27"), None));
        assert!(!r.adequate("GB", day("2031-12-28"), None));
        assert!(r.adequate("JP", day("2026-12-02"), None));
        assert!(!r.adequate("SG", day("2026-12-02"), None));
    }

    #[test]
    fn the_us_is_adequate_only_for_a_certification_in_force_that_day() {
        let r = RuleSet::current();
        let today = day("2026-12-02");
        assert!(!r.adequate("US", today, None));
        assert!(r.adequate("US", today, Some(day("2026-12-02"))));
        assert!(!r.adequate("US", today, Some(day("2026-12-01"))));
    }

    #[test]
    fn china_for_the_dsp_includes_hong_kong_and_macau() {
        let r = RuleSet::current();
        for c in ["CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"] {
            assert!(r.of_concern(c), "{c}");
        }
        assert!(!r.of_concern("TW"));
        assert!(!r.of_concern("US"));
    }
}
