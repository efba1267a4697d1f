//! The engine against an independent, deliberately literal reference model of DESIGN.md's
//! scope checks and docs/TRANSFERS.md's three regimes, on random registers full of near misses
//! and on sequences of requests, so the volume counters carry from one decision to the next.
//! The reference hardcodes the law's figures; the engine reads them from the rule set, so a
//! rule set with any threshold moved by one person disagrees (see the mutation test).

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use chrono::{DateTime, Months, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

use super::engine::{Outcome, Request, decide_with};
use super::snapshot::{GrantEntry, PartyEntry, ServiceEntry, Snapshot};
use crate::transfers::law::{AgreementFacts, EntityFacts, GrantFacts, PartyFacts};
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

#[derive(Debug, Clone)]
struct G {
    id: String,
    party: usize,
    service: usize,
    categories: Vec<usize>,
    regions: [bool; 3],
    from: i64,
    until: Option<i64>,
    revoked: bool,
    agreements: Vec<usize>,
    exemptions: [bool; 3],
    pipia: bool,
    consent: bool,
}

#[derive(Debug, Clone)]
struct A {
    exporter: usize,
    kind: usize,
    from: i64,
    until: Option<i64>,
    withdrawn: bool,
    pipia: bool,
    filing: bool,
    tia: bool,
}

#[derive(Debug, Clone)]
struct P {
    trusted: bool,
    locations: Vec<usize>,
    country: Option<usize>,
    affiliate: bool,
    covered: bool,
    restricted: bool,
    dpf: bool,
    /// Percent owned by persons of CN.
    cn_owned: u32,
    agreements: Vec<A>,
}

#[derive(Debug, Clone)]
struct Ask {
    service: usize,
    party: usize,
    purpose: usize,
    categories: Vec<usize>,
    destination: usize,
    subject: usize,
    origin: Option<usize>,
    count: i64,
    devices: Option<i64>,
    exporter: Option<usize>,
    exemption: Option<usize>,
    minors: bool,
    government: bool,
}

#[derive(Debug, Clone)]
struct World {
    /// `(active, purposes, entities)`.
    services: Vec<(bool, Vec<usize>, Vec<usize>)>,
    parties: Vec<P>,
    entities_active: Vec<bool>,
    grants: Vec<G>,
    asks: Vec<Ask>,
}

/// Seconds around `now`: the boundaries ±1 s and exactly now, and far away.
fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![Just(-1), Just(0), Just(1), Just(-86_400), Just(86_400)]
}

/// Agreement start: near now, around the 14-day filing deadline and the three-year cap.
fn agreement_from() -> impl Strategy<Value = i64> {
    let base = now().timestamp_micros();
    let three_years = (now().checked_sub_months(Months::new(36)).unwrap()).timestamp_micros();
    prop_oneof![
        Just(base - SECOND),
        Just(base),
        Just(base + SECOND),
        Just(base - 13 * DAY),
        Just(base - 14 * DAY),
        Just(three_years - SECOND),
        Just(three_years + SECOND),
        Just(base - 400 * DAY),
    ]
}

fn agreement() -> impl Strategy<Value = A> {
    (
        0..ENTITIES.len(),
        0..KINDS.len(),
        agreement_from(),
        proptest::option::of(prop_oneof![
            Just(-1i64),
            Just(0),
            Just(1),
            Just(1_000 * 86_400)
        ]),
        proptest::bool::weighted(0.15),
        proptest::bool::weighted(0.8),
        proptest::bool::weighted(0.7),
        proptest::bool::weighted(0.7),
    )
        .prop_map(
            |(exporter, kind, from, until, withdrawn, pipia, filing, tia)| {
                let base = now().timestamp_micros();
                A {
                    exporter,
                    kind,
                    from,
                    until: until.map(|u| (base + u * SECOND).max(from + SECOND)),
                    withdrawn,
                    pipia,
                    filing,
                    tia,
                }
            },
        )
}

fn party() -> impl Strategy<Value = P> {
    (
        (
            proptest::bool::weighted(0.8),
            proptest::collection::vec(0..COUNTRIES.len(), 0..3),
            proptest::option::weighted(0.9, 0..COUNTRIES.len()),
        ),
        (
            proptest::bool::weighted(0.3),
            proptest::bool::weighted(0.2),
            proptest::bool::weighted(0.15),
            any::<bool>(),
            prop_oneof![Just(0u32), Just(49), Just(50)],
        ),
        proptest::collection::vec(agreement(), 0..4),
    )
        .prop_map(
            |(
                (trusted, locations, country),
                (affiliate, covered, restricted, dpf, cn_owned),
                agreements,
            )| P {
                trusted,
                locations,
                country,
                affiliate,
                covered,
                restricted,
                dpf,
                cn_owned,
                agreements,
            },
        )
}

fn grant(id: usize) -> impl Strategy<Value = G> {
    (
        (
            0..2usize,
            0..2usize,
            proptest::collection::vec(0..CATEGORIES.len(), 1..3),
        ),
        proptest::array::uniform3(proptest::bool::weighted(0.8)),
        (
            offset(),
            proptest::option::of(offset()),
            proptest::bool::weighted(0.15),
        ),
        proptest::collection::vec(0..4usize, 0..3),
        proptest::array::uniform3(proptest::bool::weighted(0.3)),
        (proptest::bool::weighted(0.8), proptest::bool::weighted(0.8)),
    )
        .prop_map(
            move |(
                (party, service, categories),
                regions,
                (from, until, revoked),
                agreements,
                exemptions,
                (pipia, consent),
            )| {
                let base = now().timestamp_micros();
                let from = base + from * SECOND;
                // A window always ends after it starts, as the API enforces.
                let until = until.map(|u| (base + u * SECOND).max(from + SECOND));
                G {
                    id: format!("g{id}"),
                    party,
                    service,
                    categories,
                    regions,
                    from,
                    until,
                    revoked,
                    agreements,
                    exemptions,
                    pipia,
                    consent,
                }
            },
        )
}

fn ask() -> impl Strategy<Value = Ask> {
    (
        (0..SERVICES.len(), 0..PARTIES.len(), 0..PURPOSES.len()),
        proptest::collection::btree_set(0..CATEGORIES.len(), 1..4),
        (
            0..COUNTRIES.len(),
            0..3usize,
            proptest::option::weighted(0.3, 0..3usize),
        ),
        (
            proptest::sample::select(COUNTS),
            proptest::option::weighted(0.3, proptest::sample::select(COUNTS)),
        ),
        (
            proptest::option::weighted(0.3, 0..ENTITIES.len()),
            proptest::option::weighted(0.2, 0..EXEMPTIONS.len()),
            proptest::bool::weighted(0.1),
            proptest::bool::weighted(0.1),
        ),
    )
        .prop_map(
            |(
                (service, party, purpose),
                cats,
                (destination, subject, origin),
                (count, devices),
                (exporter, exemption, minors, government),
            )| Ask {
                service,
                party,
                purpose,
                categories: cats.into_iter().collect(),
                destination,
                subject,
                origin,
                count,
                devices,
                exporter,
                exemption,
                minors,
                government,
            },
        )
}

fn world() -> impl Strategy<Value = World> {
    let service = (
        proptest::bool::weighted(0.9),
        proptest::collection::vec(0..PURPOSES.len(), 0..3),
        proptest::collection::vec(0..ENTITIES.len(), 0..3),
    );
    let grants = (0..7usize).prop_flat_map(|n| (0..n).map(grant).collect::<Vec<_>>());
    (
        proptest::collection::vec(service, 2),
        proptest::collection::vec(party(), 2),
        proptest::collection::vec(proptest::bool::weighted(0.9), ENTITIES.len()),
        grants,
        proptest::collection::vec(ask(), 1..5),
    )
        .prop_map(|(services, parties, entities_active, grants, asks)| World {
            services,
            parties,
            entities_active,
            grants,
            asks,
        })
}

/// A world where the scope checks mostly pass, so the regimes and the counters decide: active
/// services declared for every purpose, trusted parties processing everywhere, valid grants on
/// `user` backed by every agreement of their party, and agreements mostly in force.
fn focused_world() -> impl Strategy<Value = World> {
    world().prop_map(|mut w| {
        for (i, s) in w.services.iter_mut().enumerate() {
            s.0 = true;
            s.1 = (0..PURPOSES.len()).filter(|p| !PURPOSES[*p].1).collect();
            s.2.truncate(1 + i % 2);
        }
        for p in &mut w.parties {
            p.trusted = true;
            p.locations = (0..COUNTRIES.len()).collect();
            for a in &mut p.agreements {
                if a.withdrawn || a.from > now().timestamp_micros() {
                    a.withdrawn = false;
                    a.from = now().timestamp_micros() - DAY;
                }
            }
        }
        for g in &mut w.grants {
            g.revoked = false;
            g.from = now().timestamp_micros() - DAY;
            g.until = None;
            g.regions = [true; 3];
            g.categories = vec![0];
            g.agreements = vec![0, 1, 2, 3];
        }
        for a in &mut w.asks {
            a.service %= 2;
            a.party %= 2;
        }
        w.entities_active = vec![true; ENTITIES.len()];
        w
    })
}

/// [`focused_world`] with every request under one regime: PRC subjects' data from the `cn`
/// exporter, or US persons' data from the `us` exporter to a covered person.
fn regime_world(us: bool) -> impl Strategy<Value = World> {
    focused_world().prop_map(move |mut w| {
        let exporter = if us { 2 } else { 0 };
        for s in &mut w.services {
            s.2 = vec![exporter];
        }
        for p in &mut w.parties {
            p.covered |= us;
            p.restricted = false;
        }
        for a in &mut w.asks {
            a.subject = usize::from(us);
            a.origin = None;
            a.exporter = None;
            a.exemption = None;
            a.government = false;
        }
        w
    })
}

fn agreement_id(party: usize, index: usize) -> String {
    format!("a{party}.{index}")
}

fn snapshot(w: &World) -> Snapshot {
    let mut snap = Snapshot::default();
    for (key, pii, linkable, sensitive, classes) in CATEGORIES {
        snap.add_category(key, *pii, *linkable);
        let bits = classes
            .iter()
            .map(|c| crate::transfers::DspClass::parse(c).unwrap().bit())
            .fold(0, |a, b| a | b);
        if *sensitive || bits != 0 {
            snap.marks.insert((*key).into(), (*sensitive, bits));
        }
    }
    for (key, prohibited, ancillary) in PURPOSES {
        snap.purposes.insert((*key).into(), *prohibited);
        if *ancillary {
            snap.ancillary.insert((*key).into());
        }
    }
    for (i, (key, country, ciio)) in ENTITIES.iter().enumerate() {
        snap.entities.insert(
            (*key).into(),
            EntityFacts {
                country: (*country).into(),
                ciio: *ciio,
                active: w.entities_active[i],
            },
        );
    }
    for (i, (active, purposes, entities)) in w.services.iter().enumerate() {
        snap.services.insert(
            SERVICES[i].into(),
            ServiceEntry {
                active: *active,
                purposes: purposes.iter().map(|p| PURPOSES[*p].0.into()).collect(),
                entities: entities.iter().map(|e| ENTITIES[*e].0.into()).collect(),
                id: 0,
            },
        );
    }
    for (i, p) in w.parties.iter().enumerate() {
        let mut grants: HashMap<String, Vec<GrantEntry>> = HashMap::default();
        for g in w.grants.iter().filter(|g| g.party == i) {
            grants
                .entry(SERVICES[g.service].into())
                .or_default()
                .push(GrantEntry {
                    id: g.id.clone(),
                    category_ids: snap.ids_of(g.categories.iter().map(|c| CATEGORIES[*c].0)),
                    regions: g.regions,
                    valid_from: g.from,
                    valid_until: g.until,
                    revoked: g.revoked,
                    facts: GrantFacts {
                        agreements: g.agreements.iter().map(|a| agreement_id(i, *a)).collect(),
                        exemptions: (0..3)
                            .filter(|e| g.exemptions[*e])
                            .map(|e| 1u8 << e)
                            .fold(0, |a, b| a | b),
                        pipia: g.pipia,
                        separate_consent: g.consent,
                    },
                });
        }
        let locations: Vec<String> = p.locations.iter().map(|c| COUNTRIES[*c].into()).collect();
        snap.parties.insert(
            PARTIES[i].into(),
            std::sync::Arc::new(PartyEntry {
                trusted: p.trusted,
                facts: PartyFacts {
                    affiliate: p.affiliate,
                    country: p.country.map(|c| COUNTRIES[c].into()),
                    principal_place: p.country.map(|c| COUNTRIES[c].into()),
                    ownership: if p.cn_owned > 0 {
                        vec![("CN".into(), p.cn_owned)]
                    } else {
                        vec![]
                    },
                    us_dsp_covered: p.covered,
                    pipl_restricted: p.restricted,
                    dpf_until: p.dpf.then(|| "2030-01-01".parse().unwrap()),
                    processes_outside_mainland: locations.iter().any(|c| c != "CN"),
                    agreements: p
                        .agreements
                        .iter()
                        .enumerate()
                        .map(|(n, a)| AgreementFacts {
                            id: agreement_id(i, n),
                            exporter: ENTITIES[a.exporter].0.into(),
                            kind: KINDS[a.kind],
                            withdrawn: a.withdrawn,
                            valid_from: a.from,
                            valid_until: a.until,
                            filing: a.filing,
                            pipia: a.pipia,
                            tia: a.tia,
                        })
                        .collect(),
                },
                data_locations: locations,
                grants,
                ..PartyEntry::default()
            }),
        );
    }
    snap.index();
    snap
}

fn request(a: &Ask) -> Request {
    let subject = ["CN", "US", "DE"][a.subject];
    Request {
        service: SERVICES[a.service].into(),
        party_id: PARTIES[a.party].into(),
        purpose: PURPOSES[a.purpose].0.into(),
        categories: a
            .categories
            .iter()
            .map(|c| CATEGORIES[*c].0.into())
            .collect(),
        destination_country: COUNTRIES[a.destination].into(),
        subject_country: subject.into(),
        data_origin_country: a.origin.map_or(subject, |o| ["CN", "US", "DE"][o]).into(),
        subject_count: a.count,
        device_count: a.devices,
        exporter: a.exporter.map(|e| ENTITIES[e].0.into()),
        exemption: a.exemption.map(|e| EXEMPTIONS[e]),
        subjects_include_minors_under_14: a.minors,
        us_government_related: a.government,
    }
}

mod reference;
mod statutes;

/// `(code, category, regime)`.
type Reasons = BTreeSet<(String, Option<String>, Option<String>)>;

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
