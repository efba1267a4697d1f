//! The regimes' calendar edges, on [`Plan`] directly: the PIPL year in UTC+8 and the DSP's
//! 366-day window.

use chrono::{DateTime, TimeZone, Utc};

use super::law::{CategoryFacts, EntityFacts, PartyFacts, Share};
use super::plan::Plan;
use super::rules::RuleSet;
use super::volumes::{Counter, Tally};
use super::{DspClass, Regime, Tier};

fn share<'a>(subject: &'a str, count: i64) -> Share<'a> {
    Share {
        subject_country: subject,
        origin: subject,
        destination: "SG",
        subject_count: count,
        device_count: None,
        exemption: None,
        minors_under_14: false,
        government_related: false,
        party_id: "p",
        ancillary_purpose: false,
    }
}

fn email() -> CategoryFacts {
    CategoryFacts {
        personal: true,
        dsp_classes: DspClass::ListedIdentifier.bit(),
        contact_name_or_demographic: true,
        ..CategoryFacts::default()
    }
}

fn genome() -> CategoryFacts {
    CategoryFacts {
        personal: true,
        pipl_sensitive: true,
        dsp_classes: DspClass::Genomic.bit() | DspClass::Health.bit(),
        ..CategoryFacts::default()
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn entity(country: &str) -> EntityFacts {
    EntityFacts {
        country: country.into(),
        ciio: false,
        active: true,
    }
}

fn pipl_counter(year: &str) -> Counter {
    Counter {
        regime: Regime::Pipl,
        exporter: "cn".into(),
        party_id: String::new(),
        class: "non_sensitive".into(),
        period: year.into(),
    }
}

fn tier(plan: &Plan) -> Option<Tier> {
    plan.reports(&[])[0].tier
}

#[test]
fn the_pipl_year_turns_at_midnight_in_beijing() {
    let rules = RuleSet::current();
    let mut tally = Tally::new(366);
    tally.add(pipl_counter("2026"), 99_999);
    let party = PartyFacts {
        country: Some("SG".into()),
        ..PartyFacts::default()
    };
    let cn = entity("CN");
    let plan = |now| {
        Plan::new(
            rules,
            &share("CN", 1),
            &party,
            Some(("cn", &cn)),
            &[email()],
            &tally,
            now,
        )
    };
    // 2026-12-31T15:59:59Z is 23:59:59 in Beijing: still 2026, so the 100,000th person.
    let before = plan(at("2026-12-31T15:59:59Z"));
    assert_eq!(tier(&before), Some(Tier::Contract));
    assert_eq!(before.increments[0].0.period, "2026");
    // 16:00:00Z is midnight in Beijing: 2027 starts from zero.
    let after = plan(at("2026-12-31T16:00:00Z"));
    assert_eq!(tier(&after), Some(Tier::Exempt));
    assert_eq!(after.increments[0].0.period, "2027");
}

fn dsp_counter(day: &str) -> Counter {
    Counter {
        regime: Regime::UsDsp,
        exporter: "us".into(),
        party_id: "p".into(),
        class: "genomic".into(),
        period: day.into(),
    }
}

#[test]
fn the_dsp_window_is_366_days_ending_with_the_decisions_day() {
    let rules = RuleSet::current();
    let party = PartyFacts {
        country: Some("CN".into()),
        ..PartyFacts::default()
    };
    let us = entity("US");
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let bulk = |day: &str| {
        let mut tally = Tally::new(366);
        tally.add(dsp_counter(day), 100);
        let plan = Plan::new(
            rules,
            &share("US", 1),
            &party,
            Some(("us", &us)),
            &[genome()],
            &tally,
            now,
        );
        plan.reports(&[])[0].bulk.as_ref().unwrap()["genomic"]
    };
    // 2025-12-02 is the window's first day: its 100 people count, and the 101st is bulk.
    assert!(bulk("2025-12-02"));
    // 2025-12-01 is outside it.
    assert!(!bulk("2025-12-01"));
}

#[test]
fn the_corporate_group_exemption_needs_both_an_affiliate_and_an_ancillary_purpose() {
    let rules = RuleSet::current();
    let us = entity("US");
    let tally = Tally::new(366);
    let now = at("2026-12-02T09:00:00Z");
    let exempt = |affiliate: bool, ancillary: bool| {
        let party = PartyFacts {
            affiliate,
            country: Some("CN".into()),
            ..PartyFacts::default()
        };
        let mut s = share("US", 200);
        s.ancillary_purpose = ancillary;
        let plan = Plan::new(
            rules,
            &s,
            &party,
            Some(("us", &us)),
            &[genome()],
            &tally,
            now,
        );
        plan.reports(&[])[0].exemption.is_some()
    };
    assert!(exempt(true, true));
    assert!(!exempt(true, false));
    assert!(!exempt(false, true));
}
