//! Random worlds for the property test: registers full of near misses (parties with facts and
//! agreements, grants with evidence) and sequences of requests, and the focused worlds where the
//! regimes and the counters decide.

use proptest::prelude::*;

use chrono::Months;

use super::{
    CATEGORIES, COUNTRIES, COUNTS, DAY, ENTITIES, EXEMPTIONS, KINDS, PARTIES, PURPOSES, SECOND,
    SERVICES, now,
};
#[derive(Debug, Clone)]
pub(super) struct G {
    pub(super) id: String,
    pub(super) party: usize,
    pub(super) service: usize,
    pub(super) categories: Vec<usize>,
    pub(super) regions: [bool; 3],
    pub(super) from: i64,
    pub(super) until: Option<i64>,
    pub(super) revoked: bool,
    /// A second person approved it.
    pub(super) approved: bool,
    pub(super) agreements: Vec<usize>,
    pub(super) exemptions: [bool; 3],
    pub(super) pipia: bool,
    pub(super) consent: bool,
}

#[derive(Debug, Clone)]
pub(super) struct A {
    pub(super) exporter: usize,
    pub(super) kind: usize,
    pub(super) from: i64,
    pub(super) until: Option<i64>,
    pub(super) withdrawn: bool,
    pub(super) pipia: bool,
    pub(super) filing: bool,
    pub(super) tia: bool,
}

#[derive(Debug, Clone)]
pub(super) struct P {
    pub(super) trusted: bool,
    pub(super) locations: Vec<usize>,
    pub(super) country: Option<usize>,
    pub(super) affiliate: bool,
    pub(super) covered: bool,
    pub(super) restricted: bool,
    pub(super) dpf: bool,
    /// Percent owned by persons of CN.
    pub(super) cn_owned: u32,
    pub(super) agreements: Vec<A>,
    pub(super) subs: Vec<Sub>,
}

/// A sub-processor: a party (or an unknown one), what it receives, where it processes it, and
/// the day it was authorised relative to the decision's (`None`: not yet).
#[derive(Debug, Clone)]
pub(super) struct Sub {
    pub(super) party: usize,
    pub(super) categories: Vec<usize>,
    /// Empty: every service.
    pub(super) services: Vec<usize>,
    pub(super) countries: Vec<usize>,
    pub(super) authorised: Option<i64>,
}

pub(super) fn sub() -> impl Strategy<Value = Sub> {
    (
        0..PARTIES.len(),
        proptest::collection::vec(0..CATEGORIES.len(), 1..3),
        proptest::collection::vec(0..SERVICES.len(), 0..2),
        proptest::collection::vec(0..COUNTRIES.len(), 1..3),
        proptest::option::weighted(0.85, -1i64..=1),
    )
        .prop_map(|(party, categories, services, countries, authorised)| Sub {
            party,
            categories,
            services,
            countries,
            authorised,
        })
}

#[derive(Debug, Clone)]
pub(super) struct Ask {
    pub(super) service: usize,
    pub(super) party: usize,
    pub(super) purpose: usize,
    pub(super) categories: Vec<usize>,
    pub(super) destination: usize,
    pub(super) subject: usize,
    pub(super) origin: Option<usize>,
    pub(super) count: i64,
    pub(super) devices: Option<i64>,
    pub(super) exporter: Option<usize>,
    pub(super) exemption: Option<usize>,
    pub(super) minors: bool,
    pub(super) government: bool,
}

#[derive(Debug, Clone)]
pub(super) struct World {
    /// `(active, purposes, entities)`.
    pub(super) services: Vec<(bool, Vec<usize>, Vec<usize>)>,
    pub(super) parties: Vec<P>,
    pub(super) entities_active: Vec<bool>,
    pub(super) grants: Vec<G>,
    pub(super) asks: Vec<Ask>,
}

/// Seconds around `now`: the boundaries ±1 s and exactly now, and far away.
pub(super) fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![Just(-1), Just(0), Just(1), Just(-86_400), Just(86_400)]
}

/// Agreement start: near now, around the 14-day filing deadline and the three-year cap.
pub(super) fn agreement_from() -> impl Strategy<Value = i64> {
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

pub(super) fn agreement() -> impl Strategy<Value = A> {
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

pub(super) fn party() -> impl Strategy<Value = P> {
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
        prop_oneof![2 => Just(Vec::new()), 1 => proptest::collection::vec(sub(), 1..3)],
    )
        .prop_map(
            |(
                (trusted, locations, country),
                (affiliate, covered, restricted, dpf, cn_owned),
                agreements,
                subs,
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
                subs,
            },
        )
}

pub(super) fn grant(id: usize) -> impl Strategy<Value = G> {
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
            proptest::bool::weighted(0.85),
        ),
        proptest::collection::vec(0..4usize, 0..3),
        proptest::array::uniform3(proptest::bool::weighted(0.3)),
        (proptest::bool::weighted(0.8), proptest::bool::weighted(0.8)),
    )
        .prop_map(
            move |(
                (party, service, categories),
                regions,
                (from, until, revoked, approved),
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
                    approved,
                    agreements,
                    exemptions,
                    pipia,
                    consent,
                }
            },
        )
}

pub(super) fn ask() -> impl Strategy<Value = Ask> {
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

pub(super) fn world() -> impl Strategy<Value = World> {
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
pub(super) fn focused_world() -> impl Strategy<Value = World> {
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
            g.approved = true;
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
pub(super) fn regime_world(us: bool) -> impl Strategy<Value = World> {
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
