//! The engine against an independent, deliberately simple reference model of DESIGN.md's
//! seven checks, on random registers full of near misses.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap as HashMap;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::engine::{Outcome, Request, decide};
use super::snapshot::{GrantEntry, PartyEntry, ServiceEntry, Snapshot};
use crate::types::Region;

/// `(key, pii, linkable)`: a small taxonomy with the shapes that matter (parents, siblings,
/// linkable and free keys, PII only below a parent).
const CATEGORIES: &[(&str, bool, bool)] = &[
    ("user", false, true),
    ("user.contact", true, false),
    ("user.contact.email", true, false),
    ("user.contact.phone", true, false),
    ("user.location", false, true),
    ("user.location.precise", true, false),
    ("user.location.imprecise", false, true),
    ("user.device", false, true),
    ("user.device.cookie", false, true),
    ("system", false, false),
    ("system.ops", false, false),
];
const PURPOSES: &[(&str, bool)] = &[
    ("marketing", false),
    ("marketing.email", false),
    ("sharing", false),
    ("sharing.sale", true),
];
const COUNTRIES: &[&str] = &["CN", "US", "DE"];
const REGIONS: [Region; 3] = [Region::Prc, Region::Us, Region::Other];
const SERVICES: &[&str] = &["newsletter", "billing", "ghost"];
const PARTIES: &[&str] = &["p1", "p2", "nobody"];

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
    pipl: bool,
    from: i64,
    until: Option<i64>,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct World {
    services: Vec<(bool, Vec<usize>)>,
    parties: Vec<(bool, Vec<usize>)>,
    grants: Vec<G>,
    service: usize,
    party: usize,
    purpose: usize,
    categories: Vec<usize>,
    destination: usize,
    subject: usize,
}

/// Seconds around `now`: the boundaries ±1 s and exactly now, and far away.
fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![Just(-1), Just(0), Just(1), Just(-86_400), Just(86_400)]
}

fn grant(id: usize) -> impl Strategy<Value = G> {
    (
        0..2usize,
        0..2usize,
        proptest::collection::vec(0..CATEGORIES.len(), 1..3),
        proptest::array::uniform3(any::<bool>()),
        any::<bool>(),
        offset(),
        proptest::option::of(offset()),
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            move |(party, service, categories, regions, pipl, from, until, revoked)| {
                let base = now().timestamp_micros();
                let from = base + from * 1_000_000;
                // A window always ends after it starts, as the API enforces.
                let until = until.map(|u| (base + u * 1_000_000).max(from + 1_000_000));
                G {
                    id: format!("g{id}"),
                    party,
                    service,
                    categories,
                    regions,
                    pipl,
                    from,
                    until,
                    revoked,
                }
            },
        )
}

fn world() -> impl Strategy<Value = World> {
    let service = (
        any::<bool>(),
        proptest::collection::vec(0..PURPOSES.len(), 0..3),
    );
    let party = (
        proptest::bool::weighted(0.7),
        proptest::collection::vec(0..COUNTRIES.len(), 0..3),
    );
    let grants = (0..7usize).prop_flat_map(|n| (0..n).map(grant).collect::<Vec<_>>());
    (
        proptest::collection::vec(service, 2),
        proptest::collection::vec(party, 2),
        grants,
        (0..SERVICES.len(), 0..PARTIES.len(), 0..PURPOSES.len()),
        proptest::collection::btree_set(0..CATEGORIES.len(), 1..4),
        (0..COUNTRIES.len(), 0..3usize),
    )
        .prop_map(
            |(
                services,
                parties,
                grants,
                (service, party, purpose),
                cats,
                (destination, subject),
            )| World {
                services,
                parties,
                grants,
                service,
                party,
                purpose,
                categories: cats.into_iter().collect(),
                destination,
                subject,
            },
        )
}

fn snapshot(w: &World) -> Snapshot {
    let mut snap = Snapshot::default();
    for (key, pii, linkable) in CATEGORIES {
        snap.add_category(key, *pii, *linkable);
    }
    for (key, prohibited) in PURPOSES {
        snap.purposes.insert((*key).into(), *prohibited);
    }
    for (i, (active, purposes)) in w.services.iter().enumerate() {
        snap.services.insert(
            SERVICES[i].into(),
            ServiceEntry {
                active: *active,
                purposes: purposes.iter().map(|p| PURPOSES[*p].0.into()).collect(),
                id: 0,
            },
        );
    }
    for (i, (trusted, locations)) in w.parties.iter().enumerate() {
        let mut grants: HashMap<String, Vec<GrantEntry>> = HashMap::default();
        for g in w.grants.iter().filter(|g| g.party == i) {
            grants
                .entry(SERVICES[g.service].into())
                .or_default()
                .push(GrantEntry {
                    id: g.id.clone(),
                    category_ids: snap.ids_of(g.categories.iter().map(|c| CATEGORIES[*c].0)),
                    regions: g.regions,
                    mechanism_is_pipl: g.pipl,
                    valid_from: g.from,
                    valid_until: g.until,
                    revoked: g.revoked,
                });
        }
        snap.parties.insert(
            PARTIES[i].into(),
            std::sync::Arc::new(PartyEntry {
                trusted: *trusted,
                data_locations: locations.iter().map(|c| COUNTRIES[*c].into()).collect(),
                grants,
                ..PartyEntry::default()
            }),
        );
    }
    snap.index();
    snap
}

// ---- the reference model: literal, slow, and written apart from the engine ----

fn ref_covers(grant_key: &str, key: &str) -> bool {
    let g: Vec<&str> = grant_key.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    g.len() <= k.len() && g.iter().zip(&k).all(|(a, b)| a == b)
}

fn ref_is_pii(key: &str) -> bool {
    CATEGORIES
        .iter()
        .any(|(k, pii, _)| *pii && ref_covers(key, k))
}

fn ref_region(country: &str) -> usize {
    match country {
        "CN" => 0,
        "US" => 1,
        _ => 2,
    }
}

type Reasons = BTreeSet<(String, Option<String>)>;

/// The expected reasons, and for each approved PII category the grants that may approve it.
fn reference(w: &World) -> (Reasons, HashMap<String, Vec<String>>) {
    let mut reasons = Reasons::new();
    let mut approvers = HashMap::default();
    let mut add = |code: &str, cat: Option<&str>| {
        reasons.insert((code.to_owned(), cat.map(str::to_owned)));
    };
    let purpose = PURPOSES[w.purpose].0;
    let service = w.services.get(w.service);
    if let Some((active, declared)) = service {
        if !active {
            add("service_inactive", None);
        }
        if !declared.iter().any(|p| ref_covers(PURPOSES[*p].0, purpose)) {
            add("purpose_not_declared", None);
        }
    } else {
        add("service_unknown", None);
    }
    if PURPOSES[w.purpose].1 {
        add("purpose_prohibited", None);
    }
    let destination = COUNTRIES[w.destination];
    let party = w.parties.get(w.party);
    if let Some((trusted, locations)) = party {
        if !trusted {
            add("party_not_trusted", None);
        }
        if !locations.iter().any(|c| COUNTRIES[*c] == destination) {
            add("destination_not_declared", None);
        }
    } else {
        add("party_unknown", None);
    }
    if service.is_some() && party.is_some() {
        let t = now().timestamp_micros();
        let mine: Vec<&G> = w
            .grants
            .iter()
            .filter(|g| g.party == w.party && g.service == w.service)
            .collect();
        let any_pii = w.categories.iter().any(|c| ref_is_pii(CATEGORIES[*c].0));
        let region = ref_region(destination);
        let needs_pipl = w.subject == 0 && region != 0;
        for c in &w.categories {
            let (key, _, linkable) = CATEGORIES[*c];
            if !(ref_is_pii(key) || (any_pii && linkable)) {
                continue;
            }
            let covering: Vec<&&G> = mine
                .iter()
                .filter(|g| {
                    g.categories
                        .iter()
                        .any(|k| ref_covers(CATEGORIES[*k].0, key))
                })
                .collect();
            let valid = |g: &G| !g.revoked && g.from <= t && g.until.is_none_or(|u| t < u);
            let ok: Vec<String> = covering
                .iter()
                .filter(|g| valid(g) && g.regions[region] && (!needs_pipl || g.pipl))
                .map(|g| g.id.clone())
                .collect();
            if !ok.is_empty() {
                approvers.insert(key.to_owned(), ok);
                continue;
            }
            let code = if covering.iter().any(|g| valid(g) && !g.regions[region]) {
                "destination_region_not_allowed"
            } else if covering.iter().any(|g| valid(g)) {
                "transfer_mechanism_missing"
            } else if covering.iter().any(|g| !g.revoked && t < g.from) {
                "grant_not_yet_valid"
            } else if covering
                .iter()
                .any(|g| !g.revoked && g.until.is_some_and(|u| u <= t))
            {
                "grant_expired"
            } else if !covering.is_empty() {
                "grant_revoked"
            } else if mine.iter().any(|g| {
                g.categories
                    .iter()
                    .any(|k| ref_covers(key, CATEGORIES[*k].0))
            }) {
                "category_too_broad"
            } else {
                "category_not_granted"
            };
            add(code, Some(key));
        }
    }
    (reasons, approvers)
}

fn request(w: &World) -> Request {
    Request {
        service: SERVICES[w.service].into(),
        party_id: PARTIES[w.party].into(),
        purpose: PURPOSES[w.purpose].0.into(),
        categories: w
            .categories
            .iter()
            .map(|c| CATEGORIES[*c].0.into())
            .collect(),
        destination_country: COUNTRIES[w.destination].into(),
        subject_region: REGIONS[w.subject],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_agrees_with_the_reference_model(w in world()) {
        let (snap, req) = (snapshot(&w), request(&w));
        let verdict = decide(&snap, &req, now());
        let (reasons, grants) = (verdict.reasons(&req), verdict.grants(&req));
        let (expected, approvers) = reference(&w);
        let got: Reasons = reasons
            .iter()
            .map(|r| (r.code.as_str().to_owned(), r.category.clone()))
            .collect();
        prop_assert_eq!(got.len(), reasons.len(), "no reason twice");
        prop_assert_eq!(&got, &expected);
        prop_assert_eq!(verdict.outcome == Outcome::Approved, expected.is_empty());
        prop_assert_eq!(grants.len(), approvers.len());
        for g in &grants {
            let allowed = approvers.get(&g.category);
            prop_assert!(allowed.is_some_and(|a| a.contains(&g.grant_id)), "{} approved by {}", g.category, g.grant_id);
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
}

#[test]
fn a_key_is_pii_when_a_descendant_is() {
    let mut snap = Snapshot::default();
    for (key, pii, linkable) in CATEGORIES {
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
