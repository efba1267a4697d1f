//! A world as the engine sees it: the snapshot and the requests, built with the engine's own
//! types (the reference model reads the world directly).

use rustc_hash::FxHashMap as HashMap;

use super::super::engine::Request;
use super::super::onward::SubEntry;
use super::super::snapshot::{GrantEntry, PartyEntry, ServiceEntry, Snapshot};
use super::worlds::{Ask, World};
use super::{CATEGORIES, COUNTRIES, ENTITIES, EXEMPTIONS, KINDS, PARTIES, PURPOSES, SERVICES, now};
use crate::registry::parties::SubProcessor;
use crate::transfers::law::{AgreementFacts, EntityFacts, GrantFacts, PartyFacts};

pub(super) fn agreement_id(party: usize, index: usize) -> String {
    format!("a{party}.{index}")
}

pub(super) fn snapshot(w: &World) -> Snapshot {
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
                    approved: g.approved,
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
                sub_processors: p
                    .subs
                    .iter()
                    .map(|s| {
                        SubEntry::new(SubProcessor {
                            party_id: PARTIES[s.party].into(),
                            categories: s
                                .categories
                                .iter()
                                .map(|c| CATEGORIES[*c].0.into())
                                .collect(),
                            services: s.services.iter().map(|v| SERVICES[*v].into()).collect(),
                            countries: s.countries.iter().map(|c| COUNTRIES[*c].into()).collect(),
                            authorised_on: s.authorised.map(|d| {
                                (now().date_naive() + chrono::Duration::days(d)).to_string()
                            }),
                            objection_deadline: None,
                        })
                    })
                    .collect(),
                ..PartyEntry::default()
            }),
        );
    }
    snap.index();
    snap
}

pub(super) fn request(a: &Ask) -> Request {
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
