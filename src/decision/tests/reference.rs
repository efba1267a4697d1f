//! The reference model: DESIGN.md's checks and docs/TRANSFERS.md's regimes written out
//! literally, slowly, with the law's figures typed in by hand, and without any of the engine's
//! or the transfers domain's code.

use std::collections::{BTreeMap, BTreeSet};

use super::statutes::{
    ADEQUATE, CONCERN, EEA, bulk_more_than, covers, is_pii, marks, mechanism, region,
};
use super::{Ask, CATEGORIES, COUNTRIES, ENTITIES, G, PARTIES, PURPOSES, Reasons, World, now};

/// The counters: `pipl|<exporter>|<class>` and `dsp|<exporter>|<party>|<class>`; every request
/// of a world is decided at the same instant, so one year and one window.
#[derive(Debug, Default)]
pub struct Counters(BTreeMap<String, i64>);

pub struct Expected {
    pub reasons: Reasons,
    /// Approved category → the grant that approves it.
    pub grants: BTreeMap<String, String>,
}

pub fn decide(w: &World, a: &Ask, counters: &mut Counters) -> Expected {
    let before = Counters(counters.0.clone());
    let mut reasons = Reasons::new();
    let mut grants = BTreeMap::new();
    let add = |reasons: &mut Reasons, code: &str, cat: Option<&str>, regime: Option<&str>| {
        reasons.insert((
            code.to_owned(),
            cat.map(str::to_owned),
            regime.map(str::to_owned),
            None,
        ));
    };
    let purpose = PURPOSES[a.purpose].0;
    let service = w.services.get(a.service);
    match service {
        Some((active, declared, _)) => {
            if !active {
                add(&mut reasons, "service_inactive", None, None);
            }
            if !declared.iter().any(|p| covers(PURPOSES[*p].0, purpose)) {
                add(&mut reasons, "purpose_not_declared", None, None);
            }
        }
        None => add(&mut reasons, "service_unknown", None, None),
    }
    if PURPOSES[a.purpose].1 {
        add(&mut reasons, "purpose_prohibited", None, None);
    }
    let destination = COUNTRIES[a.destination];
    let party = w.parties.get(a.party);
    match party {
        Some(p) => {
            if !p.trusted {
                add(&mut reasons, "party_not_trusted", None, None);
            }
            if !p.locations.iter().any(|c| COUNTRIES[*c] == destination) {
                add(&mut reasons, "destination_not_declared", None, None);
            }
        }
        None => add(&mut reasons, "party_unknown", None, None),
    }
    let (Some((_, _, entities)), Some(p)) = (service, party) else {
        return Expected { reasons, grants };
    };
    let t = now().timestamp_micros();
    let subject = ["CN", "US", "DE"][a.subject];
    let origin = a.origin.map_or(subject, |o| ["CN", "US", "DE"][o]);
    // The exporter: the one named if the service lists it, else the service's only one;
    // an inactive entity exports nothing.
    let exporter = match a.exporter {
        Some(e) => entities.contains(&e).then_some(e),
        None if entities.len() == 1 => Some(entities[0]),
        None => None,
    }
    .filter(|e| w.entities_active[*e]);
    let party_country = p.country.map(|c| COUNTRIES[c]);
    let keys: Vec<&str> = a.categories.iter().map(|c| CATEGORIES[*c].0).collect();
    let any_pii = keys.iter().any(|k| is_pii(k));
    let candidate = |k: &str| {
        let (pii, linkable, ..) = marks(k);
        pii || linkable
    };
    let any_candidate = keys.iter().any(|k| candidate(k));

    // PRC.
    let pipl = origin == "CN"
        && (destination != "CN"
            || party_country != Some("CN")
            || p.locations.iter().any(|c| COUNTRIES[*c] != "CN"))
        && any_candidate;
    // DSP: the share's classes.
    let listed: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| candidate(k) && marks(k).3.contains(&"listed_identifier"))
        .collect();
    let mut classes: BTreeSet<&str> = keys
        .iter()
        .filter(|k| candidate(k))
        .flat_map(|k| marks(k).3)
        .filter(|c| *c != "listed_identifier")
        .collect();
    let only_contact = |k: &&str| {
        ["user.contact", "user.name", "user.demographic"]
            .iter()
            .any(|r| covers(r, k))
    };
    let combined = (listed.len() >= 2 && !listed.iter().all(only_contact))
        || (!listed.is_empty() && !classes.is_empty());
    if combined {
        classes.insert("covered_identifier");
    }
    let exporter_us = exporter.is_none_or(|e| ENTITIES[e].1 == "US");
    let foreign = party_country != Some("US");
    let covered = p.covered
        || (foreign && party_country.is_some_and(|c| CONCERN.contains(&c)))
        || p.cn_owned >= 50
        || CONCERN.contains(&destination);
    let dsp = subject == "US"
        && exporter_us
        && (!classes.is_empty() || a.government)
        && covered
        && any_candidate;
    // GDPR.
    let from_eea = EEA.contains(&origin) || exporter.is_some_and(|e| EEA.contains(&ENTITIES[e].1));
    let gdpr = from_eea
        && (!EEA.contains(&destination) || !party_country.is_some_and(|c| EEA.contains(&c)))
        && any_candidate;
    let any_regime = pipl || dsp || gdpr;
    let personal = |k: &str| {
        let (pii, linkable, ..) = marks(k);
        pii || (linkable && (any_pii || any_regime))
    };
    if !any_regime && !any_pii {
        classes.clear();
    }

    if pipl && p.restricted {
        add(&mut reasons, "recipient_restricted", None, Some("pipl"));
    }
    if pipl && exporter.is_none() {
        add(&mut reasons, "exporter_not_declared", None, Some("pipl"));
    }
    if dsp && exporter.is_none() {
        add(&mut reasons, "exporter_not_declared", None, Some("us_dsp"));
    }

    // Counters with this share.
    let ciio = exporter.is_some_and(|e| ENTITIES[e].2);
    let ename = exporter.map_or("", |e| ENTITIES[e].0);
    let has_sensitive = a.minors || keys.iter().any(|k| personal(k) && marks(k).2);
    let has_plain = !a.minors && keys.iter().any(|k| personal(k) && !marks(k).2);
    let pipl_key = |class: &str| format!("pipl|{ename}|{class}");
    let plain_with = counters.0.get(&pipl_key("plain")).copied().unwrap_or(0) + a.count;
    let sensitive_with = counters.0.get(&pipl_key("sensitive")).copied().unwrap_or(0) + a.count;
    // 0 exempt, 1 contract, 2 assessment.
    let plain_tier = if ciio || plain_with >= 1_000_000 {
        2
    } else if plain_with >= 100_000 {
        1
    } else {
        0
    };
    let sensitive_tier = if ciio || sensitive_with >= 10_000 {
        2
    } else {
        1
    };
    let party_key = PARTIES[a.party];
    let dsp_n = |class: &str| {
        if class == "precise_geolocation" {
            a.devices.unwrap_or(a.count)
        } else {
            a.count
        }
    };
    let dsp_key = |class: &str| format!("dsp|{ename}|{party_key}|{class}");
    let dsp_with =
        |class: &str| counters.0.get(&dsp_key(class)).copied().unwrap_or(0) + dsp_n(class);
    let lowest = classes
        .iter()
        .map(|c| bulk_more_than(c))
        .min()
        .unwrap_or(i64::MAX);
    let bulk = a.government || classes.iter().any(|c| dsp_with(c) > lowest);
    let ancillary = PURPOSES[a.purpose].2;
    let adequate = |c: &str| EEA.contains(&c) || ADEQUATE.contains(&c) || (c == "US" && p.dpf);

    let mine: Vec<&G> = w
        .grants
        .iter()
        .filter(|g| g.party == a.party && g.service == a.service)
        .collect();
    for key in &keys {
        if !personal(key) {
            continue;
        }
        let covering: Vec<&&G> = mine
            .iter()
            .filter(|g| g.categories.iter().any(|k| covers(CATEGORIES[*k].0, key)))
            .collect();
        // DESIGN.md: a grant is relied on only once a second person approved it.
        let valid =
            |g: &G| !g.revoked && g.approved && g.from <= t && g.until.is_none_or(|u| t < u);
        let scope_ok: Vec<&&&G> = covering
            .iter()
            .filter(|g| valid(g) && g.regions[region(destination)])
            .collect();
        let (_, _, sensitive, cat_classes) = marks(key);
        let transfer = |g: &G| -> Vec<(&'static str, &'static str)> {
            let mut out = Vec::new();
            if pipl && exporter.is_some() {
                let claimed = a.exemption;
                if claimed.is_some_and(|e| !g.exemptions[e]) {
                    out.push(("pipl", "exemption_not_granted"));
                } else if !g.pipia || !g.consent {
                    out.push(("pipl", "pipl_prerequisite_missing"));
                } else if claimed.is_none() {
                    let tier = if a.minors || sensitive {
                        sensitive_tier
                    } else {
                        plain_tier
                    };
                    let family = [
                        "pipl_standard_contract",
                        "pipl_certification",
                        "cac_security_assessment",
                    ];
                    let accepted: &[&str] = if tier == 2 {
                        &["cac_security_assessment"]
                    } else {
                        &family
                    };
                    if tier > 0
                        && let Some(code) = mechanism(p, g, exporter, accepted, &family, true, t)
                    {
                        out.push(("pipl", code));
                    }
                }
            }
            if dsp && exporter.is_some() {
                let mut mine: BTreeSet<&str> = cat_classes
                    .iter()
                    .copied()
                    .filter(|c| *c != "listed_identifier")
                    .collect();
                if cat_classes.contains(&"listed_identifier") && combined {
                    mine.insert("covered_identifier");
                }
                let judged = !mine.is_empty() || a.government;
                if judged && !(p.affiliate && ancillary) && bulk {
                    if mine.contains("genomic") {
                        out.push(("us_dsp", "us_dsp_prohibited"));
                    } else if let Some(code) = mechanism(
                        p,
                        g,
                        exporter,
                        &["us_dsp_security_requirements"],
                        &["us_dsp_security_requirements"],
                        false,
                        t,
                    ) {
                        out.push(("us_dsp", code));
                    }
                }
            }
            if gdpr
                && !(adequate(destination) && party_country.is_some_and(adequate))
                && let Some(code) = mechanism(
                    p,
                    g,
                    exporter,
                    &["eu_scc", "eu_bcr"],
                    &["eu_scc", "eu_bcr"],
                    false,
                    t,
                )
            {
                out.push(("gdpr", code));
            }
            out
        };
        if let Some(g) = scope_ok.iter().find(|g| transfer(g).is_empty()) {
            grants.insert((*key).to_owned(), g.id.clone());
            onward(w, a, g, key, &before, &mut reasons);
            continue;
        }
        if let Some(first) = scope_ok.first() {
            for (regime, code) in transfer(first) {
                add(&mut reasons, code, Some(key), Some(regime));
            }
            continue;
        }
        let code = if covering.iter().any(|g| valid(g)) {
            "destination_region_not_allowed"
        } else if covering.iter().any(|g| !g.revoked && !g.approved) {
            "grant_not_approved"
        } else if covering.iter().any(|g| !g.revoked && t < g.from) {
            "grant_not_yet_valid"
        } else if covering
            .iter()
            .any(|g| !g.revoked && g.until.is_some_and(|u| u <= t))
        {
            "grant_expired"
        } else if !covering.is_empty() {
            "grant_revoked"
        } else if mine
            .iter()
            .any(|g| g.categories.iter().any(|k| covers(key, CATEGORIES[*k].0)))
        {
            "category_too_broad"
        } else {
            "category_not_granted"
        };
        add(&mut reasons, code, Some(key), None);
    }
    if reasons.is_empty() {
        if pipl && exporter.is_some() {
            if has_plain {
                *counters.0.entry(pipl_key("plain")).or_default() += a.count;
            }
            if has_sensitive {
                *counters.0.entry(pipl_key("sensitive")).or_default() += a.count;
            }
        }
        if subject == "US" && exporter.is_some() {
            for c in &classes {
                *counters.0.entry(dsp_key(c)).or_default() += dsp_n(c);
            }
        }
    }
    Expected { reasons, grants }
}

/// The route beyond the party, for `key` approved on grant `g`: each sub-processor of the
/// party receiving `key` for the service must be a trusted party, authorised by the decision's
/// day, declare its countries, and pass the regimes of each hop — judged as this model judges
/// a share: the same request to the sub-processor in that country, on `g` alone (its regions
/// are not the hop's concern), with the party's agreements and the counters before the share;
/// only the regimes' reasons about `key` count (the exporter's absence was told on the first).
fn onward(w: &World, a: &Ask, g: &G, key: &str, before: &Counters, reasons: &mut Reasons) {
    let p = &w.parties[a.party];
    for s in &p.subs {
        let receives = (s.services.is_empty() || s.services.contains(&a.service))
            && s.categories
                .iter()
                .any(|c| covers(CATEGORIES[*c].0, key) || covers(key, CATEGORIES[*c].0));
        if !receives {
            continue;
        }
        let via = PARTIES[s.party];
        let mut add = |code: &str, regime: Option<&str>| {
            reasons.insert((
                code.to_owned(),
                Some(key.to_owned()),
                regime.map(str::to_owned),
                Some(via.to_owned()),
            ));
        };
        let Some(next) = w.parties.get(s.party).filter(|n| n.trusted) else {
            add("sub_processor_not_trusted", None);
            continue;
        };
        if s.authorised.is_none_or(|d| d > 0) {
            add("sub_processor_not_authorised", None);
            continue;
        }
        if s.countries.iter().any(|c| !next.locations.contains(c)) {
            add("destination_not_declared", None);
        }
        let mut hop_world = w.clone();
        hop_world.parties[s.party] = super::P {
            trusted: true,
            agreements: p.agreements.clone(),
            subs: Vec::new(),
            ..next.clone()
        };
        hop_world.grants = vec![G {
            party: s.party,
            regions: [true; 3],
            ..g.clone()
        }];
        for country in &s.countries {
            let hop = Ask {
                party: s.party,
                destination: *country,
                ..a.clone()
            };
            let judged = decide(&hop_world, &hop, &mut Counters(before.0.clone()));
            for (code, category, regime, _) in judged.reasons {
                let here = category.as_deref().is_none_or(|c| c == key);
                if let Some(regime) = regime.filter(|_| here && code != "exporter_not_declared") {
                    add(&code, Some(&regime));
                }
            }
        }
    }
}
