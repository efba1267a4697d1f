//! The duties to notify that an incident's exposure creates, one per regime × exporter ×
//! addressee:
//! - GDPR Art. 33 (EEA subjects, or an EEA exporter): the supervisory authority, within 72 hours
//!   of becoming aware; Art. 34: the subjects, without undue delay, when the severity is high or
//!   critical.
//! - PIPL Art. 57 (PRC subjects): the authority and the subjects, at once by default
//!   (`VENDOR_REGISTRY_PIPL_NOTICE_HOURS`).
//! - The privacy policy's promise: the subjects, for every incident with a non-empty exposure.
//!
//! Duties are never removed: an amendment that widens the exposure adds the ones it newly owes.

use std::collections::HashMap;

use chrono::Duration;

use super::exposure::ExposureGroup;
use super::{Addressee, DutyRegime, Severity};
use crate::transfers::rules::RuleSet;
use crate::types::Region;

/// GDPR Art. 33(1): within 72 hours of becoming aware.
pub const GDPR_AUTHORITY_HOURS: i64 = 72;

/// A duty owed: what it is and when it falls due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    pub regime: DutyRegime,
    pub exporter: Option<String>,
    pub addressee: Addressee,
    pub rule: &'static str,
    pub due_at: Option<String>,
}

/// The duties `groups` create for an incident the company became aware of at `aware`
/// (RFC 3339), deduplicated, in the order the groups first owe them. `exporter_country` names each exporter's
/// country.
pub fn owed(
    groups: &[ExposureGroup],
    severity: Severity,
    aware: &str,
    exporter_country: &HashMap<String, String>,
    pipl_notice_hours: i64,
    rules: &RuleSet,
) -> Vec<Owed> {
    let after = |hours: i64| {
        crate::time::parse(aware).map(|t| crate::time::format(t + Duration::hours(hours)))
    };
    let mut out: Vec<Owed> = Vec::new();
    let mut insert = |o: Owed| {
        if !out.contains(&o) {
            out.push(o);
        }
    };
    for g in groups {
        let exporter_in_eea = g
            .exporter
            .as_ref()
            .and_then(|e| exporter_country.get(e))
            .is_some_and(|c| rules.in_eea(c));
        let subjects_in_eea = g
            .subject_country
            .as_deref()
            .is_some_and(|c| rules.in_eea(c));
        if subjects_in_eea || exporter_in_eea {
            insert(Owed {
                regime: DutyRegime::Gdpr,
                exporter: g.exporter.clone(),
                addressee: Addressee::SupervisoryAuthority,
                rule: "GDPR Art. 33",
                due_at: after(GDPR_AUTHORITY_HOURS),
            });
            if matches!(severity, Severity::High | Severity::Critical) {
                insert(Owed {
                    regime: DutyRegime::Gdpr,
                    exporter: g.exporter.clone(),
                    addressee: Addressee::Subjects,
                    rule: "GDPR Art. 34",
                    due_at: None,
                });
            }
        }
        let prc_subjects = match &g.subject_country {
            Some(c) => c == "CN",
            None => g.subject_region == Region::Prc,
        };
        if prc_subjects {
            for addressee in [Addressee::Authority, Addressee::Subjects] {
                insert(Owed {
                    regime: DutyRegime::Pipl,
                    exporter: g.exporter.clone(),
                    addressee,
                    rule: "PIPL Art. 57",
                    due_at: after(pipl_notice_hours),
                });
            }
        }
    }
    if !groups.is_empty() {
        insert(Owed {
            regime: DutyRegime::Policy,
            exporter: None,
            addressee: Addressee::Subjects,
            rule: "privacy policy: notice of a breach",
            due_at: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(country: Option<&str>, region: Region, exporter: &str) -> ExposureGroup {
        ExposureGroup {
            service: "s".into(),
            category: "user.contact.email".into(),
            subject_country: country.map(str::to_owned),
            subject_region: region,
            exporter: Some(exporter.to_owned()),
            decisions: 1,
            subject_count: Some(1),
            grants: vec![],
            agreements: vec![],
            ledger_seqs: vec![1],
        }
    }

    fn countries() -> HashMap<String, String> {
        [("acme-de", "DE"), ("acme-us", "US"), ("acme-cn", "CN")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    }

    fn kinds(o: &[Owed]) -> Vec<(DutyRegime, Addressee, Option<String>)> {
        o.iter()
            .map(|d| (d.regime, d.addressee, d.due_at.clone()))
            .collect()
    }

    const AWARE: &str = "2026-12-01T08:00:00.000000Z";

    #[test]
    fn eea_subjects_owe_the_authority_within_72_hours_and_the_subjects_only_when_severe() {
        let g = [group(Some("FR"), Region::Other, "acme-us")];
        let rules = RuleSet::current();
        let medium = owed(&g, Severity::Medium, AWARE, &countries(), 0, rules);
        assert_eq!(
            kinds(&medium),
            vec![
                (
                    DutyRegime::Gdpr,
                    Addressee::SupervisoryAuthority,
                    Some("2026-12-04T08:00:00.000000Z".into())
                ),
                (DutyRegime::Policy, Addressee::Subjects, None),
            ]
        );
        let high = owed(&g, Severity::High, AWARE, &countries(), 0, rules);
        assert!(kinds(&high).contains(&(DutyRegime::Gdpr, Addressee::Subjects, None)));
        let critical = owed(&g, Severity::Critical, AWARE, &countries(), 0, rules);
        assert_eq!(critical.len(), 3);
    }

    #[test]
    fn an_eea_exporter_owes_gdpr_duties_for_subjects_anywhere_and_others_do_not() {
        let rules = RuleSet::current();
        let de = owed(
            &[group(Some("SG"), Region::Other, "acme-de")],
            Severity::Low,
            AWARE,
            &countries(),
            0,
            rules,
        );
        assert_eq!(de[0].regime, DutyRegime::Gdpr);
        assert_eq!(de[0].exporter.as_deref(), Some("acme-de"));
        let us = owed(
            &[group(Some("SG"), Region::Other, "acme-us")],
            Severity::Low,
            AWARE,
            &countries(),
            0,
            rules,
        );
        assert_eq!(
            kinds(&us),
            vec![(DutyRegime::Policy, Addressee::Subjects, None)]
        );
    }

    #[test]
    fn prc_subjects_owe_the_authority_and_the_subjects_at_once_or_after_the_configured_hours() {
        let rules = RuleSet::current();
        let g = [group(Some("CN"), Region::Prc, "acme-cn")];
        let now = owed(&g, Severity::Low, AWARE, &countries(), 0, rules);
        assert_eq!(
            kinds(&now)[..2],
            [
                (DutyRegime::Pipl, Addressee::Authority, Some(AWARE.into())),
                (DutyRegime::Pipl, Addressee::Subjects, Some(AWARE.into())),
            ]
        );
        let later = owed(&g, Severity::Low, AWARE, &countries(), 24, rules);
        assert_eq!(
            later[0].due_at.as_deref(),
            Some("2026-12-02T08:00:00.000000Z")
        );
        // Decisions made before subject_country existed count by their region.
        let old = owed(
            &[group(None, Region::Prc, "acme-us")],
            Severity::Low,
            AWARE,
            &countries(),
            0,
            rules,
        );
        assert_eq!(old[0].regime, DutyRegime::Pipl);
    }

    #[test]
    fn no_exposure_owes_nothing_and_duties_are_one_per_regime_exporter_and_addressee() {
        let rules = RuleSet::current();
        assert!(owed(&[], Severity::Critical, AWARE, &countries(), 0, rules).is_empty());
        let mut a = group(Some("FR"), Region::Other, "acme-us");
        let mut b = a.clone();
        a.category = "user.name".into();
        b.service = "other".into();
        let o = owed(&[a, b], Severity::Low, AWARE, &countries(), 0, rules);
        assert_eq!(o.len(), 2);
    }
}
