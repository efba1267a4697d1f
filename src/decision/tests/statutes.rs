//! The law's figures and small rules as the reference model reads them, typed in by hand.

use chrono::Months;

use super::{A, CATEGORIES, G, KINDS};

pub const EEA: &[&str] = &["DE"];
/// Adequate on 2026-06-01 among the test's countries (the US only with DPF).
pub const ADEQUATE: &[&str] = &["JP"];
pub const CONCERN: &[&str] = &["CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"];

pub fn covers(grant_key: &str, key: &str) -> bool {
    let g: Vec<&str> = grant_key.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    g.len() <= k.len() && g.iter().zip(&k).all(|(a, b)| a == b)
}

pub fn is_pii(key: &str) -> bool {
    CATEGORIES.iter().any(|(k, pii, ..)| *pii && covers(key, k))
}

pub fn marks(key: &str) -> (bool, bool, bool, Vec<&'static str>) {
    let (_, pii, linkable, sensitive, classes) = CATEGORIES.iter().find(|c| c.0 == key).unwrap();
    (is_pii(key) || *pii, *linkable, *sensitive, classes.to_vec())
}

pub fn region(country: &str) -> usize {
    match country {
        "CN" => 0,
        "US" => 1,
        _ => 2,
    }
}

pub fn bulk_more_than(class: &str) -> i64 {
    match class {
        "genomic" => 100,
        "biometric" | "precise_geolocation" => 1_000,
        "health" | "financial" => 10_000,
        "covered_identifier" => 100_000,
        _ => unreachable!("{class}"),
    }
}

/// 0 in force, 1 incomplete, 2 not yet valid, 3 expired, 4 withdrawn.
fn state(a: &A, t: i64) -> u8 {
    let kind = KINDS[a.kind].as_str();
    let mut until = a.until;
    if kind == "cac_security_assessment" {
        let cap = chrono::DateTime::from_timestamp_micros(a.from)
            .unwrap()
            .checked_add_months(Months::new(36))
            .unwrap()
            .timestamp_micros();
        until = Some(until.map_or(cap, |u| u.min(cap)));
    }
    if a.withdrawn {
        4
    } else if t < a.from {
        2
    } else if until.is_some_and(|u| t >= u) {
        3
    } else {
        let complete = match kind {
            "pipl_standard_contract" => a.pipia && (a.filing || t < a.from + 14 * super::DAY),
            "pipl_certification" | "cac_security_assessment" => a.pipia,
            "eu_scc" => a.tia,
            _ => true,
        };
        if complete { 0 } else { 1 }
    }
}

/// The code for the grant's agreements under a regime at a tier, or None when backed.
pub fn mechanism(
    p: &super::P,
    g: &G,
    exporter: Option<usize>,
    accepted: &[&str],
    family: &[&str],
    pipl: bool,
    t: i64,
) -> Option<&'static str> {
    let mine: Vec<&A> = g
        .agreements
        .iter()
        .filter_map(|i| p.agreements.get(*i))
        .filter(|a| Some(a.exporter) == exporter)
        .collect();
    let ok: Vec<&&A> = mine
        .iter()
        .filter(|a| accepted.contains(&KINDS[a.kind].as_str()))
        .collect();
    if ok.is_empty() {
        return Some(
            if pipl
                && mine
                    .iter()
                    .any(|a| family.contains(&KINDS[a.kind].as_str()))
            {
                "transfer_mechanism_insufficient"
            } else {
                "transfer_mechanism_missing"
            },
        );
    }
    let best = ok.iter().map(|a| state(a, t)).min().unwrap();
    [
        None,
        Some("transfer_mechanism_incomplete"),
        Some("transfer_mechanism_not_yet_valid"),
        Some("transfer_mechanism_expired"),
        Some("transfer_mechanism_withdrawn"),
    ][best as usize]
}
