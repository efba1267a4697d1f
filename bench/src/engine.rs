//! The decision engine against its peers, in process, on one seeded set of decisions:
//! our engine, Cedar (`cedar-policy`, the same scope rules as Cedar policies), Rego (`regorus`)
//! and a naive `HashMap` floor (one lookup per requested category). Before timing, every engine
//! must agree with ours on every decision's outcome.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use vendor_registry::decision::engine::{self, Outcome, Request};
use vendor_registry::decision::snapshot::{GrantEntry, PartyEntry, ServiceEntry, Snapshot};
use vendor_registry::taxonomy::covers;
use vendor_registry::types::Region;

const COUNTRIES: &[&str] = &["CN", "US", "DE", "FR", "JP"];
const SERVICES: usize = 10;
/// Grant scopes: PII keys at several depths, so coverage is hierarchical.
pub const SCOPES: &[&str] = &[
    "user.contact",
    "user.contact.email",
    "user.contact.phone_number",
    "user.contact.address",
    "user.name",
    "user.financial",
    "user.payment",
    "user.unique_id",
    "user.account",
    "user.location.precise",
    "user.demographic",
    "user.device",
    "user.behavior",
];
/// Requested categories: the scopes, their children and parents, and free keys.
const ASKED: &[&str] = &[
    "user.contact.email",
    "user.contact.phone_number",
    "user.contact.address.city",
    "user.contact",
    "user.name.first",
    "user.name",
    "user.financial.bank_account",
    "user.payment",
    "user.unique_id",
    "user.account.username",
    "user.location.precise",
    "user.location",
    "user.demographic.age_range",
    "user.device.cookie_id",
    "user.behavior.browsing_history",
    "system.operations",
];
const PURPOSES: &[&str] = &[
    "marketing.communications.email",
    "marketing.advertising",
    "analytics.reporting",
    "essential.service.operations",
    "third_party_sharing.sale",
    "personalize.content",
];
const DECLARED: &[&str] = &[
    "marketing",
    "analytics",
    "essential",
    "third_party_sharing",
    "personalize",
];

struct Register {
    snap: Snapshot,
    parties: Vec<String>,
    /// (party, service) → grants, for the peers.
    grants: HashMap<(usize, usize), Vec<GrantEntry>>,
}

fn service_key(i: usize) -> String {
    format!("svc-{i}")
}

fn build(
    parties: usize,
    grants_per_party: usize,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> Register {
    let mut snap = Snapshot::default();
    snap.revision = 1;
    for c in vendor_registry::taxonomy::seed::categories("") {
        snap.add_category(&c.key, c.pii, c.linkable);
    }
    for p in vendor_registry::taxonomy::seed::purposes("") {
        snap.purposes.insert(p.key, p.prohibited);
    }
    for s in 0..SERVICES {
        let purposes = DECLARED
            .choose_multiple(rng, 2)
            .map(|p| (*p).to_owned())
            .collect();
        snap.services.insert(
            service_key(s),
            ServiceEntry {
                active: rng.gen_bool(0.95),
                purposes,
                entities: Vec::new(),
                id: 0,
            },
        );
    }
    let t = now.timestamp_micros();
    let day = 86_400_000_000i64;
    let mut ids = Vec::with_capacity(parties);
    let mut by_pair: HashMap<(usize, usize), Vec<GrantEntry>> = HashMap::new();
    let mut n = 0usize;
    for p in 0..parties {
        let id = format!("p{p:06}");
        let how_many = rng.gen_range(1..=2);
        let locations: Vec<String> = COUNTRIES
            .choose_multiple(rng, how_many)
            .map(|c| (*c).to_owned())
            .collect();
        let mut entry = PartyEntry {
            trusted: rng.gen_bool(0.9),
            data_locations: locations,
            ..PartyEntry::default()
        };
        for _ in 0..grants_per_party {
            n += 1;
            let service = rng.gen_range(0..SERVICES);
            let scopes = rng.gen_range(1..=2);
            let (from, until) = match rng.gen_range(0..20) {
                0 => (t + day, None),
                1 => (t - 2 * day, Some(t - day)),
                _ => (
                    t - day,
                    if rng.gen_bool(0.5) {
                        Some(t + 365 * day)
                    } else {
                        None
                    },
                ),
            };
            let g = GrantEntry {
                id: format!("g{n}"),
                category_ids: snap.ids_of(SCOPES.choose_multiple(rng, scopes).copied()),
                regions: [rng.gen_bool(0.6), rng.gen_bool(0.8), rng.gen_bool(0.6)],
                valid_from: from,
                valid_until: until,
                revoked: rng.gen_bool(0.05),
                // Every grant approved: the peers' policies model no approval step.
                approved: true,
                facts: Default::default(),
            };
            entry
                .grants
                .entry(service_key(service))
                .or_default()
                .push(g.clone());
            by_pair.entry((p, service)).or_default().push(g);
        }
        snap.parties.insert(id.clone(), std::sync::Arc::new(entry));
        ids.push(id);
    }
    snap.index();
    Register {
        snap,
        parties: ids,
        grants: by_pair,
    }
}

/// The category keys a grant covers.
fn keys<'s>(snap: &'s Snapshot, g: &'s GrantEntry) -> impl Iterator<Item = &'s str> + 's {
    g.category_ids.iter().map(|id| snap.key(*id))
}

/// A request with the indices the peers need.
struct Case {
    request: Request,
    party: usize,
    service: usize,
}

/// Requests mixing near misses with requests the register allows: mostly a service the party
/// has grants for, a purpose the service declares and categories under a granted scope.
fn requests(reg: &Register, count: usize, rng: &mut StdRng) -> Vec<Case> {
    (0..count)
        .map(|_| {
            let party = rng.gen_range(0..reg.parties.len() + reg.parties.len() / 50 + 1);
            let granted: Vec<usize> = (0..SERVICES)
                .filter(|s| reg.grants.contains_key(&(party, *s)))
                .collect();
            let service = match granted.choose(rng) {
                Some(s) if rng.gen_bool(0.8) => *s,
                _ => rng.gen_range(0..SERVICES),
            };
            let declared = &reg.snap.services[&service_key(service)].purposes;
            let fitting: Vec<&&str> = PURPOSES
                .iter()
                .filter(|p| declared.iter().any(|d| covers(d, p)))
                .collect();
            let purpose = match fitting.choose(rng) {
                Some(p) if rng.gen_bool(0.85) => (**p).to_owned(),
                _ => (*PURPOSES.choose(rng).unwrap_or(&"analytics.reporting")).to_owned(),
            };
            let scopes: Vec<&str> = reg
                .grants
                .get(&(party, service))
                .into_iter()
                .flatten()
                .flat_map(|g| keys(&reg.snap, g))
                .collect();
            let under: Vec<&&str> = ASKED
                .iter()
                .filter(|a| scopes.iter().any(|s| covers(s, a)))
                .collect();
            let asked = rng.gen_range(1..=3);
            let categories: Vec<String> = if !under.is_empty() && rng.gen_bool(0.75) {
                under
                    .choose_multiple(rng, asked.min(under.len()))
                    .map(|c| (**c).to_owned())
                    .collect()
            } else {
                ASKED
                    .choose_multiple(rng, asked)
                    .map(|c| (*c).to_owned())
                    .collect()
            };
            let known = reg.parties.get(party);
            let destination = match known.and_then(|p| reg.snap.parties.get(p)) {
                Some(p) if rng.gen_bool(0.9) => {
                    p.data_locations.choose(rng).cloned().unwrap_or_default()
                }
                _ => (*COUNTRIES.choose(rng).unwrap_or(&"US")).to_owned(),
            };
            Case {
                request: Request {
                    service: service_key(service),
                    party_id: known.cloned().unwrap_or_else(|| format!("unknown-{party}")),
                    purpose,
                    categories,
                    destination_country: destination,
                    // Subjects outside every cross-border regime: the comparison is of the
                    // scope rules, with our engine still judging (and finding no) regimes.
                    subject_country: "JP".into(),
                    data_origin_country: "JP".into(),
                    subject_count: 1,
                    device_count: None,
                    exporter: None,
                    exemption: None,
                    subjects_include_minors_under_14: false,
                    us_government_related: false,
                },
                party,
                service,
            }
        })
        .collect()
}

// ---------------------------------------------------------------- the HashMap floor

/// One lookup per requested category in a precomputed (party, service, category) table: no
/// hierarchy, no validity, no request-level checks. A floor for cost, not an engine.
struct Floor(rustc_hash::FxHashMap<(usize, usize, &'static str), bool>);

impl Floor {
    fn new(reg: &Register) -> Floor {
        let mut table = rustc_hash::FxHashMap::default();
        for ((p, s), grants) in &reg.grants {
            for asked in ASKED {
                let ok = grants
                    .iter()
                    .any(|g| keys(&reg.snap, g).any(|k| covers(k, asked)));
                table.insert((*p, *s, *asked), ok);
            }
        }
        Floor(table)
    }

    fn decide(&self, case: &Case) -> bool {
        case.request.categories.iter().all(|c| {
            ASKED.iter().find(|a| **a == c).is_some_and(|a| {
                self.0
                    .get(&(case.party, case.service, *a))
                    .copied()
                    .unwrap_or(false)
            })
        })
    }
}

// ---------------------------------------------------------------- Cedar

/// The scope rules as Cedar policies. Each grant is a `permit` on its service, scoped to the
/// category subtree it covers and guarded by party, regions, validity and PIPL; request-level
/// rules are `forbid`s. As Cedar recommends, the host hands `is_authorized` the policy slice of
/// the (party, service) pair; one authorization per category.
struct Cedar {
    entities: cedar_policy::Entities,
    /// Which keys count as PII, for the request's `with_pii` context.
    pii: HashSet<String>,
    slices: HashMap<(usize, usize), cedar_policy::PolicySet>,
    base: String,
}

fn region_name(i: usize) -> &'static str {
    ["PRC", "US", "OTHER"][i]
}

impl Cedar {
    fn new(reg: &Register, cases: &[Case]) -> Cedar {
        let mut entities = Vec::new();
        for (key, linkable) in &reg.snap.categories {
            let parents: Vec<Value> = vendor_registry::taxonomy::parent_of(key)
                .map(|p| vec![json!({"type": "Category", "id": p})])
                .unwrap_or_default();
            entities.push(json!({"uid": {"type": "Category", "id": key},
                "attrs": {"pii": reg.snap.is_pii(key), "linkable": linkable}, "parents": parents}));
        }
        for (key, prohibited) in &reg.snap.purposes {
            let parents: Vec<Value> = vendor_registry::taxonomy::parent_of(key)
                .map(|p| vec![json!({"type": "Purpose", "id": p})])
                .unwrap_or_default();
            entities.push(json!({"uid": {"type": "Purpose", "id": key}, "attrs": {"prohibited": prohibited}, "parents": parents}));
        }
        for (key, s) in &reg.snap.services {
            let purposes: Vec<Value> = s
                .purposes
                .iter()
                .map(|p| json!({"__entity": {"type": "Purpose", "id": p}}))
                .collect();
            entities.push(json!({"uid": {"type": "Service", "id": key}, "attrs": {"active": s.active, "purposes": purposes}, "parents": []}));
        }
        for (key, p) in &reg.snap.parties {
            entities.push(json!({"uid": {"type": "Party", "id": key},
                "attrs": {"trusted": p.trusted, "locations": p.data_locations}, "parents": []}));
        }
        let entities = cedar_policy::Entities::from_json_value(Value::Array(entities), None)
            .expect("entities");
        let base = r#"
permit(principal, action == Action::"share", resource)
when { !resource.pii && !(resource.linkable && context.with_pii) };
forbid(principal, action, resource) unless { principal.active };
forbid(principal, action, resource) unless { context.purpose in principal.purposes };
forbid(principal, action, resource) when { context.purpose.prohibited };
forbid(principal, action, resource) unless { context.party has trusted && context.party.trusted };
forbid(principal, action, resource) unless { context.party has locations && context.party.locations.contains(context.destination) };
"#
        .to_owned();
        let mut slices = HashMap::new();
        let pairs: HashSet<(usize, usize)> = cases.iter().map(|c| (c.party, c.service)).collect();
        for (p, s) in pairs {
            let mut src = base.clone();
            for g in reg
                .grants
                .get(&(p, s))
                .into_iter()
                .flatten()
                .filter(|g| !g.revoked)
            {
                let regions: Vec<String> = (0..3)
                    .filter(|i| g.regions[*i])
                    .map(|i| format!("\"{}\"", region_name(i)))
                    .collect();
                let until = g
                    .valid_until
                    .map(|u| format!(" && context.now < {u}"))
                    .unwrap_or_default();
                for k in keys(&reg.snap, g) {
                    src.push_str(&format!(
                        "permit(principal == Service::\"{}\", action == Action::\"share\", resource in Category::\"{k}\") \
                         when {{ context.party == Party::\"{}\" && [{}].contains(context.region) && context.now >= {}{until} }};\n",
                        service_key(s),
                        reg.parties.get(p).cloned().unwrap_or_default(),
                        regions.join(", "),
                        g.valid_from,
                    ));
                }
            }
            slices.insert(
                (p, s),
                cedar_policy::PolicySet::from_str(&src).expect("policies"),
            );
        }
        let pii = reg
            .snap
            .categories
            .keys()
            .filter(|k| reg.snap.is_pii(k))
            .cloned()
            .collect();
        Cedar {
            entities,
            pii,
            slices,
            base,
        }
    }

    /// The policy slice of the request's (party, service) pair.
    fn slice<'a>(
        &'a self,
        case: &Case,
        empty: &'a cedar_policy::PolicySet,
    ) -> &'a cedar_policy::PolicySet {
        self.slices
            .get(&(case.party, case.service))
            .unwrap_or(empty)
    }

    /// Cedar's requests for one sharing request: one per category, with the context.
    fn prepare(&self, case: &Case, now: i64) -> Vec<cedar_policy::Request> {
        let r = &case.request;
        let with_pii = r.categories.iter().any(|c| self.pii.contains(c));
        let context = cedar_policy::Context::from_json_value(
            json!({"party": {"__entity": {"type": "Party", "id": r.party_id}},
                "purpose": {"__entity": {"type": "Purpose", "id": r.purpose}},
                "destination": r.destination_country, "region": Region::of(&r.destination_country).as_str(),
                "with_pii": with_pii, "now": now}),
            None,
        )
        .expect("context");
        let principal =
            cedar_policy::EntityUid::from_str(&format!("Service::\"{}\"", r.service)).expect("uid");
        let action = cedar_policy::EntityUid::from_str("Action::\"share\"").expect("uid");
        r.categories
            .iter()
            .map(|c| {
                let resource =
                    cedar_policy::EntityUid::from_str(&format!("Category::\"{c}\"")).expect("uid");
                cedar_policy::Request::new(
                    principal.clone(),
                    action.clone(),
                    resource,
                    context.clone(),
                    None,
                )
                .expect("request")
            })
            .collect()
    }

    /// `is_authorized` alone, on prepared requests: allowed when every category is.
    fn authorize(
        &self,
        requests: &[cedar_policy::Request],
        policies: &cedar_policy::PolicySet,
        authorizer: &cedar_policy::Authorizer,
    ) -> bool {
        requests.iter().all(|request| {
            authorizer
                .is_authorized(request, policies, &self.entities)
                .decision()
                == cedar_policy::Decision::Allow
        })
    }

    /// Request construction and `is_authorized`.
    fn decide(
        &self,
        case: &Case,
        now: i64,
        authorizer: &cedar_policy::Authorizer,
        empty: &cedar_policy::PolicySet,
    ) -> bool {
        let requests = self.prepare(case, now);
        self.authorize(&requests, self.slice(case, empty), authorizer)
    }
}

// ---------------------------------------------------------------- Rego

const REGO: &str = r#"
package registry
import rego.v1

default allow := false

covers(k, c) if k == c
covers(k, c) if startswith(c, concat("", [k, "."]))

region := "PRC" if input.destination_country == "CN"
region := "US" if input.destination_country == "US"
region := "OTHER" if not input.destination_country in {"CN", "US"}

with_pii if {
    some c in input.categories
    data.categories[c].pii
}

service := data.services[input.service]
party := data.parties[input.party_id]

request_ok if {
    service.active
    some p in service.purposes
    covers(p, input.purpose)
    not data.purposes[input.purpose]
    party.trusted
    input.destination_country in party.locations
}

free(c) if {
    not data.categories[c].pii
    not data.categories[c].linkable
}
free(c) if {
    not data.categories[c].pii
    not with_pii
}

granted(c) if {
    some g in party.grants[input.service]
    not g.revoked
    some k in g.categories
    covers(k, c)
    g.valid_from <= input.now
    not expired(g)
    g.regions[region]
}

expired(g) if input.now >= g.valid_until

allow if {
    request_ok
    every c in input.categories {
        category_ok(c)
    }
}

category_ok(c) if free(c)
category_ok(c) if granted(c)
"#;

struct Rego(regorus::Engine);

impl Rego {
    fn new(reg: &Register) -> Rego {
        let mut categories = serde_json::Map::new();
        for (key, linkable) in &reg.snap.categories {
            categories.insert(
                key.clone(),
                json!({"pii": reg.snap.is_pii(key), "linkable": linkable}),
            );
        }
        // Only prohibited purposes are listed: `not data.purposes[p]` is then "not prohibited".
        let purposes: serde_json::Map<String, Value> = reg
            .snap
            .purposes
            .iter()
            .filter(|(_, p)| **p)
            .map(|(k, _)| (k.clone(), json!(true)))
            .collect();
        let services: serde_json::Map<String, Value> = reg
            .snap
            .services
            .iter()
            .map(|(k, s)| {
                (
                    k.clone(),
                    json!({"active": s.active, "purposes": s.purposes}),
                )
            })
            .collect();
        let service_keys: HashMap<u32, &String> =
            reg.snap.services.iter().map(|(k, s)| (s.id, k)).collect();
        let mut parties = serde_json::Map::new();
        for (key, p) in &reg.snap.parties {
            let grants: BTreeMap<&String, Vec<Value>> = p
                .by_service
                .iter()
                .map(|(s, gs)| {
                    (service_keys[s], gs.iter()
                        .map(|g| {
                            let mut v = json!({"categories": keys(&reg.snap, g).collect::<Vec<_>>(), "revoked": g.revoked, "valid_from": g.valid_from,
                                "regions": {"PRC": g.regions[0], "US": g.regions[1], "OTHER": g.regions[2]}});
                            if let Some(u) = g.valid_until {
                                v["valid_until"] = json!(u);
                            }
                            v
                        })
                        .collect())
                })
                .collect();
            parties.insert(
                key.clone(),
                json!({"trusted": p.trusted, "locations": p.data_locations, "grants": grants}),
            );
        }
        let data = json!({"categories": categories, "purposes": purposes, "services": services, "parties": parties});
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("registry.rego".into(), REGO.into())
            .expect("rego");
        engine
            .add_data(regorus::Value::from_json_str(&data.to_string()).expect("data"))
            .expect("data");
        Rego(engine)
    }

    fn decide(&mut self, case: &Case, now: i64) -> bool {
        let r = &case.request;
        let input = json!({"service": r.service, "party_id": r.party_id, "purpose": r.purpose, "categories": r.categories,
            "destination_country": r.destination_country, "now": now});
        self.0
            .set_input(regorus::Value::from_json_str(&input.to_string()).expect("input"));
        self.0
            .eval_rule("data.registry.allow".into())
            .map(|v| v == regorus::Value::from(true))
            .unwrap_or(false)
    }
}

// ---------------------------------------------------------------- timing

fn stats(mut nanos: Vec<u64>) -> Value {
    nanos.sort_unstable();
    let pct = |p: f64| nanos[((nanos.len() as f64 - 1.0) * p) as usize];
    let total: u64 = nanos.iter().sum();
    json!({"p50_ns": pct(0.5), "p99_ns": pct(0.99), "decisions_per_s": (nanos.len() as f64 / (total as f64 / 1e9)).round()})
}

fn time(cases: &[Case], mut f: impl FnMut(&Case) -> bool) -> Value {
    let mut nanos = Vec::with_capacity(cases.len());
    let mut sink = 0usize;
    for c in cases {
        let t = Instant::now();
        sink += f(c) as usize;
        nanos.push(t.elapsed().as_nanos() as u64);
    }
    std::hint::black_box(sink);
    stats(nanos)
}

/// Passes of ours and of the floor, interleaved, so that both see the same machine.
const PASSES: usize = 5;

/// The whole set decided in one loop, with no clock per call: decisions per second.
fn bulk(cases: &[Case], mut f: impl FnMut(&Case) -> bool) -> f64 {
    let t = Instant::now();
    let mut sink = 0usize;
    for c in cases {
        sink += f(c) as usize;
    }
    std::hint::black_box(sink);
    (cases.len() as f64 / t.elapsed().as_secs_f64()).round()
}

/// `passes` interleaved rounds of `a` and `b` (a timed pass and a bulk pass each). Each side
/// reports its median-p50 pass and its median bulk throughput, every pass's figures, and the
/// figures of the round: a noisy neighbour slows both sides of a round alike.
fn head_to_head(
    cases: &[Case],
    passes: usize,
    mut a: impl FnMut(&Case) -> bool,
    mut b: impl FnMut(&Case) -> bool,
) -> (Value, Value) {
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    for _ in 0..passes {
        let mut x = time(cases, &mut a);
        let mut y = time(cases, &mut b);
        x["bulk_decisions_per_s"] = json!(bulk(cases, &mut a));
        y["bulk_decisions_per_s"] = json!(bulk(cases, &mut b));
        ra.push(x);
        rb.push(y);
    }
    let summary = |rounds: Vec<Value>| {
        let median = |k: &str| {
            let mut v: Vec<f64> = rounds.iter().filter_map(|r| r[k].as_f64()).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (p50, bulk) = (median("p50_ns"), median("bulk_decisions_per_s"));
        let mut pick = rounds
            .iter()
            .find(|r| r["p50_ns"].as_f64() == Some(p50))
            .cloned()
            .unwrap_or(Value::Null);
        pick["bulk_decisions_per_s"] = json!(bulk);
        pick["passes"] = json!(rounds);
        pick
    };
    (summary(ra), summary(rb))
}

pub fn run(parties: usize, grants_per_party: usize, count: usize, peers: bool) -> Value {
    let now = Utc::now();
    let micros = now.timestamp_micros();
    let mut rng = StdRng::seed_from_u64(20261129);
    let setup = Instant::now();
    let reg = build(parties, grants_per_party, now, &mut rng);
    let cases = requests(&reg, count, &mut rng);
    let ours: Vec<bool> = cases
        .iter()
        .map(|c| engine::decide(&reg.snap, &c.request, now).outcome == Outcome::Approved)
        .collect();
    let approved = ours.iter().filter(|a| **a).count();
    let mut result = json!({"parties": parties, "grants": parties * grants_per_party, "decisions": count,
        "approved": approved, "setup_s": setup.elapsed().as_secs_f64()});
    let floor = Floor::new(&reg);
    let (ours_timed, floor_timed) = head_to_head(
        &cases,
        PASSES,
        |c| engine::decide(&reg.snap, &c.request, now).outcome == Outcome::Approved,
        |c| floor.decide(c),
    );
    result["ours"] = ours_timed;
    result["hashmap_floor"] = floor_timed;
    result["ours_vs_floor"] = json!({
        "p50": result["ours"]["p50_ns"].as_f64().unwrap_or(0.0) / result["hashmap_floor"]["p50_ns"].as_f64().unwrap_or(1.0),
        "throughput": result["hashmap_floor"]["bulk_decisions_per_s"].as_f64().unwrap_or(0.0) / result["ours"]["bulk_decisions_per_s"].as_f64().unwrap_or(1.0),
    });
    if peers {
        let cedar = Cedar::new(&reg, &cases);
        let authorizer = cedar_policy::Authorizer::new();
        let empty = cedar_policy::PolicySet::from_str(&cedar.base).expect("policies");
        let cedar_says: Vec<bool> = cases
            .iter()
            .map(|c| cedar.decide(c, micros, &authorizer, &empty))
            .collect();
        let mut rego = Rego::new(&reg);
        let rego_says: Vec<bool> = cases.iter().map(|c| rego.decide(c, micros)).collect();
        let agree = |other: &[bool]| ours.iter().zip(other).filter(|(a, b)| a == b).count();
        result["agreement"] =
            json!({"cedar": agree(&cedar_says), "rego": agree(&rego_says), "of": count});
        for (i, c) in cases.iter().enumerate() {
            if ours[i] != cedar_says[i] || ours[i] != rego_says[i] {
                eprintln!(
                    "disagreement on {:?}: ours {} cedar {} rego {}",
                    c.request, ours[i], cedar_says[i], rego_says[i]
                );
                break;
            }
        }
        // `is_authorized` alone: the requests are built before the clock starts.
        let prepared: Vec<Vec<cedar_policy::Request>> =
            cases.iter().map(|c| cedar.prepare(c, micros)).collect();
        let mut next = 0usize;
        result["cedar_is_authorized"] = time(&cases, |c| {
            next += 1;
            cedar.authorize(&prepared[next - 1], cedar.slice(c, &empty), &authorizer)
        });
        result["cedar_with_request_construction"] =
            time(&cases, |c| cedar.decide(c, micros, &authorizer, &empty));
        result["rego"] = time(&cases, |c| rego.decide(c, micros));
    }
    result
}
