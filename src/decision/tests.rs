//! The engine against an independent, deliberately literal reference model of DESIGN.md's
//! scope checks and docs/TRANSFERS.md's three regimes, on random registers full of near misses
//! and on sequences of requests, so the volume counters carry from one decision to the next.
//! The reference hardcodes the law's figures; the engine reads them from the rule set, so a
//! rule set with any threshold moved by one person disagrees (see the mutation test).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

use super::engine::{Outcome, decide_with};
use super::snapshot::Snapshot;
use crate::transfers::rules::RuleSet;
use crate::transfers::volumes::Tally;
use crate::transfers::{AgreementKind, Enforcement, Exemption};

/// `(key, pii, linkable, pipl_sensitive, DSP classes)`: a small taxonomy with the shapes that
/// matter. Marks are given as effective (a child carries its parent's).
const CATEGORIES: &[(&str, bool, bool, bool, &[&str])] = &[
    ("user", false, true, false, &[]),
    ("user.contact", true, false, false, &["listed_identifier"]),
    (
        "user.contact.email",
        true,
        false,
        false,
        &["listed_identifier"],
    ),
    (
        "user.contact.phone",
        true,
        false,
        false,
        &["listed_identifier"],
    ),
    ("user.account", true, false, false, &["listed_identifier"]),
    ("user.location", false, true, false, &[]),
    (
        "user.location.precise",
        true,
        false,
        true,
        &["precise_geolocation"],
    ),
    ("user.location.imprecise", false, true, false, &[]),
    ("user.device", false, true, false, &[]),
    (
        "user.device.cookie",
        false,
        true,
        false,
        &["listed_identifier"],
    ),
    ("user.health", true, false, true, &["health"]),
    (
        "user.health.genetic",
        true,
        false,
        true,
        &["genomic", "health"],
    ),
    ("user.financial", true, false, true, &["financial"]),
    ("user.biometric", true, false, true, &["biometric"]),
    ("system", false, false, false, &[]),
    ("system.ops", false, false, false, &[]),
];
/// `(key, prohibited, us_dsp_ancillary)`.
const PURPOSES: &[(&str, bool, bool)] = &[
    ("marketing", false, false),
    ("marketing.email", false, false),
    ("sharing", false, false),
    ("sharing.sale", true, false),
    ("employment", false, true),
];
const COUNTRIES: &[&str] = &["CN", "US", "DE", "HK", "JP", "SG", "RU"];
const SERVICES: &[&str] = &["newsletter", "billing", "ghost"];
const PARTIES: &[&str] = &["p1", "p2", "nobody"];
/// `(key, country, ciio)`.
const ENTITIES: &[(&str, &str, bool)] = &[
    ("cn", "CN", false),
    ("cn-ciio", "CN", true),
    ("us", "US", false),
    ("de", "DE", false),
];
const KINDS: &[AgreementKind] = &[
    AgreementKind::Dpa,
    AgreementKind::PiplStandardContract,
    AgreementKind::PiplCertification,
    AgreementKind::CacSecurityAssessment,
    AgreementKind::EuScc,
    AgreementKind::EuBcr,
    AgreementKind::UsDspSecurityRequirements,
];
const EXEMPTIONS: &[Exemption] = &[
    Exemption::ContractNecessity,
    Exemption::HrManagement,
    Exemption::Emergency,
];
/// People (or devices) per share: every threshold and its neighbours.
const COUNTS: &[i64] = &[
    1, 50, 100, 101, 999, 1_000, 1_001, 9_999, 10_000, 10_001, 99_999, 100_000, 100_001, 999_999,
    1_000_000,
];

const SECOND: i64 = 1_000_000;
const DAY: i64 = 86_400 * SECOND;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

mod engine_side;
mod reference;
mod statutes;
mod worlds;

use engine_side::{request, snapshot};
use worlds::{A, Ask, G, P, World, focused_world, regime_world, world};

/// `(code, category, regime, via)`.
type Reasons = BTreeSet<(String, Option<String>, Option<String>, Option<String>)>;

/// Runs a world's requests through the engine and the reference in turn, each with its own
/// counters; the first disagreement, if any.
fn disagreement(w: &World, rules: &RuleSet) -> Option<String> {
    let snap = snapshot(w);
    let mut tally = Tally::new(366);
    let mut model = reference::Counters::default();
    for (n, a) in w.asks.iter().enumerate() {
        let req = request(a);
        let verdict = decide_with(&snap, rules, &tally, Enforcement::Enforce, &req, now());
        let got: Reasons = verdict
            .reasons(&req, rules)
            .iter()
            .map(|r| {
                (
                    r.code.as_str().to_owned(),
                    r.category.clone(),
                    r.regime.map(|g| g.as_str().to_owned()),
                    r.via.clone(),
                )
            })
            .collect();
        let expected = reference::decide(w, a, &mut model);
        if got != expected.reasons {
            return Some(format!(
                "request {n}: got {got:?}, expected {:?}",
                expected.reasons
            ));
        }
        if (verdict.outcome == Outcome::Approved) != expected.reasons.is_empty() {
            return Some(format!("request {n}: outcome {:?}", verdict.outcome));
        }
        let grants: BTreeMap<String, String> = verdict
            .grants(&req)
            .into_iter()
            .map(|g| (g.category, g.grant_id))
            .collect();
        if grants != expected.grants {
            return Some(format!(
                "request {n}: grants {grants:?}, expected {:?}",
                expected.grants
            ));
        }
        if verdict.outcome == Outcome::Approved {
            for (c, k) in &verdict.plan.increments {
                tally.add(c.clone(), *k);
            }
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_agrees_with_the_reference_model(w in prop_oneof![world(), focused_world()]) {
        if let Some(d) = disagreement(&w, RuleSet::current()) {
            prop_assert!(false, "{}", d);
        }
    }
}

/// The compiled rule set with one threshold moved by `delta`.
fn mutated(path: &[&str], delta: i64) -> RuleSet {
    let mut v: serde_json::Value =
        serde_json::from_str(crate::transfers::rules::CURRENT_JSON).unwrap();
    let mut at = &mut v;
    for p in path {
        at = &mut at[*p];
    }
    *at = (at.as_i64().unwrap() + delta).into();
    RuleSet::parse(&v.to_string()).unwrap()
}

#[test]
fn a_threshold_moved_by_one_person_is_caught() {
    let thresholds: &[&[&str]] = &[
        &["pipl", "non_sensitive_contract_from"],
        &["pipl", "non_sensitive_assessment_from"],
        &["pipl", "sensitive_assessment_from"],
        &["us_dsp", "bulk_more_than", "genomic"],
        &["us_dsp", "bulk_more_than", "biometric"],
        &["us_dsp", "bulk_more_than", "precise_geolocation"],
        &["us_dsp", "bulk_more_than", "health"],
        &["us_dsp", "bulk_more_than", "financial"],
        &["us_dsp", "bulk_more_than", "covered_identifier"],
    ];
    for path in thresholds {
        for delta in [-1, 1] {
            let rules = mutated(path, delta);
            let mut runner = TestRunner::new(RunnerConfig {
                cases: 20_000,
                failure_persistence: None,
                // Only whether a case is found matters: no shrinking.
                max_shrink_iters: 0,
                ..RunnerConfig::default()
            });
            let found = runner.run(&regime_world(path[0] == "us_dsp"), |w| {
                prop_assert!(disagreement(&w, &rules).is_none());
                Ok(())
            });
            assert!(found.is_err(), "{path:?} moved by {delta} was not caught");
        }
    }
}

#[test]
fn reason_codes_serialise_as_their_documented_names() {
    use super::engine::{ALL_CODES, ReasonCode};
    for (i, name) in ALL_CODES.iter().enumerate() {
        let code: ReasonCode = serde_json::from_value(serde_json::json!(name)).unwrap();
        assert_eq!(code as usize, i);
        assert_eq!(code.as_str(), *name);
    }
    for code in crate::transfers::TransferCode::ALL {
        assert_eq!(ReasonCode::from(*code).as_str(), code.as_str());
    }
}

#[test]
fn a_key_is_pii_when_a_descendant_is() {
    let mut snap = Snapshot::default();
    for (key, pii, linkable, _, _) in CATEGORIES {
        snap.add_category(key, *pii, *linkable);
    }
    assert!(snap.is_pii("user.location") && snap.is_pii("user"));
    assert!(!snap.is_pii("user.location.imprecise") && !snap.is_pii("user.device"));
}

#[test]
fn a_verdict_list_keeps_every_item_past_its_inline_ones_in_order() {
    use super::few::Few;
    let mut few: Few<u32, 4> = Few::default();
    assert!(few.is_empty());
    for i in 0..10 {
        few.push(i);
    }
    assert_eq!(few.len(), 10);
    assert_eq!(
        few.iter().copied().collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
}
