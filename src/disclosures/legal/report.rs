//! The yearly transparency report: counts of legal requests received in a UTC year by authority
//! country, kind, instrument and outcome, and the categories disclosed. National-security
//! process (national security letters and FISA orders) is left out of every count and reported
//! only as a band of 250 starting at 0 (50 U.S.C. § 1874), so no exact figure can be derived.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::LegalRequest;

/// Width of the bands national-security process is reported in.
pub const BAND: i64 = 250;

/// The band `n` falls in: `0-249`, `250-499`, …
pub fn band(n: usize) -> String {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let low = n / BAND * BAND;
    format!("{low}-{}", low + BAND - 1)
}

/// National-security process, as a band only.
#[derive(Debug, Serialize, ToSchema)]
pub struct Banded {
    /// E.g. `0-249`.
    pub band: String,
    /// How the count is banded for publication.
    pub rule: &'static str,
}

/// The transparency report of one year.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"year": 2026, "requests": 4,
    "by_authority_country": {"US": 3, "DE": 1}, "by_authority_kind": {"court": 3, "regulator": 1},
    "by_instrument": {"subpoena": 2, "court_order": 1, "regulator_request": 1},
    "by_outcome": {"approved": 1, "denied": 3}, "by_status": {"approved": 1, "denied": 2, "disclosed": 1},
    "categories_disclosed": {"user.contact.email": 1},
    "national_security_process": {"band": "0-249", "rule": "50 U.S.C. § 1874(a)"}}))]
pub struct TransparencyReport {
    /// The UTC year of `received_at`.
    pub year: i32,
    /// Requests other than national-security process.
    pub requests: usize,
    /// Requests per authority country.
    pub by_authority_country: BTreeMap<String, usize>,
    /// Requests per kind of authority.
    pub by_authority_kind: BTreeMap<String, usize>,
    /// Requests per instrument.
    pub by_instrument: BTreeMap<String, usize>,
    /// The gates' verdict.
    pub by_outcome: BTreeMap<String, usize>,
    /// Where the requests stand now.
    pub by_status: BTreeMap<String, usize>,
    /// Per category, the requests that disclosed it.
    pub categories_disclosed: BTreeMap<String, usize>,
    pub national_security_process: Banded,
}

pub fn build(year: i32, requests: &[LegalRequest]) -> TransparencyReport {
    let mut r = TransparencyReport {
        year,
        requests: 0,
        by_authority_country: BTreeMap::new(),
        by_authority_kind: BTreeMap::new(),
        by_instrument: BTreeMap::new(),
        by_outcome: BTreeMap::new(),
        by_status: BTreeMap::new(),
        categories_disclosed: BTreeMap::new(),
        national_security_process: Banded {
            band: String::new(),
            rule: "50 U.S.C. § 1874(a)",
        },
    };
    let mut national_security = 0;
    for q in requests {
        if q.instrument.is_national_security() {
            national_security += 1;
            continue;
        }
        r.requests += 1;
        *r.by_authority_country
            .entry(q.authority_country.clone())
            .or_default() += 1;
        *r.by_authority_kind
            .entry(q.authority_kind.to_string())
            .or_default() += 1;
        *r.by_instrument.entry(q.instrument.to_string()).or_default() += 1;
        *r.by_outcome
            .entry(q.outcome.as_str().to_owned())
            .or_default() += 1;
        *r.by_status.entry(q.status.to_string()).or_default() += 1;
        for c in &q.disclosed_categories {
            *r.categories_disclosed.entry(c.clone()).or_default() += 1;
        }
    }
    r.national_security_process.band = band(national_security);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_250_wide_from_zero() {
        assert_eq!(band(0), "0-249");
        assert_eq!(band(1), "0-249");
        assert_eq!(band(249), "0-249");
        assert_eq!(band(250), "250-499");
        assert_eq!(band(499), "250-499");
        assert_eq!(band(500), "500-749");
    }
}
