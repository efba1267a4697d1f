//! A share judged by every regime that applies to it (docs/TRANSFERS.md "When each regime
//! applies" and "The regimes, per category"): [`Plan::new`] at request level — applicability,
//! request-level failures, counters, tiers and bulk — then [`Plan::judge`] (in [`super::judge`])
//! for one category under one covering grant.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::law::{
    CategoryFacts, CounterUse, EntityFacts, Failure, PartyFacts, RegimeReport, Share,
    carries_covered_identifier, dsp_covered, dsp_window_start, pipl_tier, pipl_year,
};
use super::rules::RuleSet;
use super::volumes::{Counter, Volumes};
use super::{AgreementState, DspClass, Regime, Tier, TransferCode};

#[derive(Debug, Clone)]
pub(super) struct Pipl {
    /// Tier of non-sensitive and of sensitive categories.
    pub(super) tiers: [Tier; 2],
    pub(super) counters: Vec<CounterUse>,
}

#[derive(Debug, Clone)]
pub(super) struct Dsp {
    pub(super) bulk: bool,
    pub(super) classes: u8,
    pub(super) exempt: bool,
    pub(super) counters: Vec<CounterUse>,
}

#[derive(Debug, Clone)]
pub(super) struct Gdpr {
    pub(super) adequate: bool,
    pub(super) day: NaiveDate,
}

/// The evidence a regime accepted or judged for a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub regime: Regime,
    pub agreement_id: String,
    pub state: AgreementState,
}

/// A share's regimes, judged at request level.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub(super) exporter: Option<String>,
    pub(super) pipl: Option<Pipl>,
    pub(super) dsp: Option<Dsp>,
    pub(super) gdpr: Option<Gdpr>,
    pub(super) minors: bool,
    pub(super) government_related: bool,
    pub(super) exemption: Option<super::Exemption>,
    /// Request-level failures, in regime order.
    pub failures: Vec<Failure>,
    /// What approval adds to the counters.
    pub increments: Vec<(Counter, i64)>,
    /// Every counter the share touches, as an approved decision records it (the DSP counts
    /// US persons' shares even where the regime does not apply).
    pub counted: Vec<CounterUse>,
    pub(super) now: i64,
}

fn use_of(
    counter: &Counter,
    before: i64,
    with_share: i64,
    threshold: i64,
    window: String,
) -> CounterUse {
    CounterUse {
        before,
        key: counter.key(),
        threshold,
        window,
        with_share,
    }
}

impl Plan {
    /// Judges the share at request level. `exporter` is the resolved exporting entity.
    pub fn new(
        rules: &RuleSet,
        share: &Share,
        party: &PartyFacts,
        exporter: Option<(&str, &EntityFacts)>,
        categories: &[CategoryFacts],
        volumes: &dyn Volumes,
        now: DateTime<Utc>,
    ) -> Plan {
        let mut plan = Plan {
            exporter: exporter.map(|(k, _)| k.to_owned()),
            minors: share.minors_under_14,
            government_related: share.government_related,
            exemption: share.exemption,
            now: now.timestamp_micros(),
            ..Plan::default()
        };
        if !categories.iter().any(|c| c.personal) {
            return plan;
        }
        let outside = |c: &str| c != "CN";
        if share.origin == "CN"
            && (outside(share.destination)
                || party.country.as_deref().is_none_or(outside)
                || party.processes_outside_mainland)
        {
            if party.pipl_restricted {
                plan.fail(
                    Regime::Pipl,
                    TransferCode::RecipientRestricted,
                    "The party is on the CAC's restricted or prohibited list: no PRC personal information may go to it.".into(),
                );
            }
            plan.pipl = Some(plan.pipl_counters(rules, share, exporter, categories, volumes, now));
        }
        let mut classes = categories
            .iter()
            .filter(|c| c.personal)
            .fold(0, |b, c| b | c.dsp_classes)
            & !DspClass::ListedIdentifier.bit();
        if carries_covered_identifier(categories) {
            classes |= DspClass::CoveredIdentifier.bit();
        }
        // Every approved share of US persons' data carrying a class is counted, covered party
        // or not, so a later designation sees the past year.
        let dsp_counters = match (&plan.exporter, share.subject_country == "US") {
            (Some(exporter), true) if classes != 0 => {
                plan.dsp_counters(rules, share, &exporter.clone(), classes, volumes, now)
            }
            _ => Vec::new(),
        };
        let us_exporter = exporter.is_none_or(|(_, e)| e.country == "US");
        if share.subject_country == "US"
            && us_exporter
            && (classes != 0 || share.government_related)
            && dsp_covered(party, share.destination, rules)
        {
            let lowest = DspClass::of_bits(classes)
                .map(|c| rules.bulk_more_than(c))
                .min()
                .unwrap_or(i64::MAX);
            plan.dsp = Some(Dsp {
                bulk: share.government_related
                    || dsp_counters.iter().any(|c| c.with_share > lowest),
                classes,
                exempt: party.affiliate && share.ancillary_purpose,
                counters: dsp_counters,
            });
        }
        let from_eea =
            rules.in_eea(share.origin) || exporter.is_some_and(|(_, e)| rules.in_eea(&e.country));
        let party_outside = party.country.as_deref().is_none_or(|c| !rules.in_eea(c));
        if from_eea && (!rules.in_eea(share.destination) || party_outside) {
            let day = now.date_naive();
            let adequate = rules.adequate(share.destination, day, party.dpf_until)
                && party
                    .country
                    .as_deref()
                    .is_some_and(|c| rules.adequate(c, day, party.dpf_until));
            plan.gdpr = Some(Gdpr { adequate, day });
        }
        if plan.exporter.is_none() {
            let message = "The share's exporting entity is not resolved: the service must list it among its `entities` (and a request naming another `exporter` names one of them).";
            for (regime, applies) in [
                (Regime::Pipl, plan.pipl.is_some()),
                (Regime::UsDsp, plan.dsp.is_some()),
            ] {
                if applies {
                    plan.fail(regime, TransferCode::ExporterNotDeclared, message.into());
                }
            }
        }
        plan
    }

    fn fail(&mut self, regime: Regime, code: TransferCode, message: String) {
        self.failures.push(Failure {
            regime,
            code,
            message,
        });
    }

    fn pipl_counters(
        &mut self,
        rules: &RuleSet,
        share: &Share,
        exporter: Option<(&str, &EntityFacts)>,
        categories: &[CategoryFacts],
        volumes: &dyn Volumes,
        now: DateTime<Utc>,
    ) -> Pipl {
        let mut pipl = Pipl {
            tiers: [Tier::Exempt; 2],
            counters: Vec::new(),
        };
        let Some((key, entity)) = exporter else {
            return pipl;
        };
        let personal = || categories.iter().filter(|c| c.personal);
        let sensitive = share.minors_under_14 || personal().any(|c| c.pipl_sensitive);
        let plain = !share.minors_under_14 && personal().any(|c| !c.pipl_sensitive);
        let year = pipl_year(now, rules).to_string();
        let p = &rules.published.pipl;
        for (index, present) in [(0, plain), (1, sensitive)] {
            if !present {
                continue;
            }
            let counter = Counter {
                regime: Regime::Pipl,
                exporter: key.to_owned(),
                party_id: String::new(),
                class: if index == 1 {
                    "sensitive"
                } else {
                    "non_sensitive"
                }
                .into(),
                period: year.clone(),
            };
            let before = volumes.before(&counter);
            let with_share = before.saturating_add(share.subject_count);
            let tier = pipl_tier(with_share, index == 1, entity.ciio, rules);
            pipl.tiers[index] = tier;
            let bounds: &[i64] = if index == 1 {
                &[p.sensitive_assessment_from]
            } else {
                &[
                    p.non_sensitive_contract_from,
                    p.non_sensitive_assessment_from,
                ]
            };
            let threshold = bounds
                .iter()
                .copied()
                .find(|b| with_share < *b)
                .or(bounds.last().copied())
                .unwrap_or(0);
            let used = use_of(&counter, before, with_share, threshold, year.clone());
            self.counted.push(used.clone());
            pipl.counters.push(used);
            self.increments.push((counter, share.subject_count));
        }
        pipl
    }

    fn dsp_counters(
        &mut self,
        rules: &RuleSet,
        share: &Share,
        exporter: &str,
        classes: u8,
        volumes: &dyn Volumes,
        now: DateTime<Utc>,
    ) -> Vec<CounterUse> {
        let day = now.date_naive();
        let window = format!("{}/{day}", dsp_window_start(day, rules));
        DspClass::of_bits(classes)
            .map(|class| {
                let n = match (class, share.device_count) {
                    (DspClass::PreciseGeolocation, Some(devices)) => devices,
                    _ => share.subject_count,
                };
                let counter = Counter {
                    regime: Regime::UsDsp,
                    exporter: exporter.to_owned(),
                    party_id: share.party_id.to_owned(),
                    class: class.as_str().into(),
                    period: day.to_string(),
                };
                let before = volumes.before(&counter);
                let used = use_of(
                    &counter,
                    before,
                    before.saturating_add(n),
                    rules.bulk_more_than(class),
                    window.clone(),
                );
                self.increments.push((counter, n));
                self.counted.push(used.clone());
                used
            })
            .collect()
    }

    /// Whether any regime applies to the share.
    pub fn any(&self) -> bool {
        self.pipl.is_some() || self.dsp.is_some() || self.gdpr.is_some()
    }

    /// The regimes that applied, with what each judged, for the decision's `regimes`.
    pub fn reports(&self, evidence: &[(String, Evidence)]) -> Vec<RegimeReport> {
        let uses = |regime: Regime| {
            evidence
                .iter()
                .filter(|(_, e)| e.regime == regime)
                .map(|(category, e)| super::law::AgreementUse {
                    agreement_id: e.agreement_id.clone(),
                    category: category.clone(),
                    state: e.state,
                })
                .collect()
        };
        let mut out = Vec::new();
        if let Some(p) = &self.pipl {
            out.push(RegimeReport {
                agreements: uses(Regime::Pipl),
                bulk: None,
                counters: p.counters.clone(),
                exemption: self.exemption.map(|e| e.as_str().to_owned()),
                regime: Regime::Pipl,
                tier: self.exporter.as_ref().map(|_| p.tiers[0].max(p.tiers[1])),
            });
        }
        if let Some(d) = &self.dsp {
            out.push(RegimeReport {
                agreements: uses(Regime::UsDsp),
                bulk: Some(
                    DspClass::of_bits(d.classes)
                        .map(|c| (c.as_str().to_owned(), d.bulk))
                        .collect::<BTreeMap<_, _>>(),
                ),
                counters: d.counters.clone(),
                exemption: d.exempt.then(|| "corporate_group".to_owned()),
                regime: Regime::UsDsp,
                tier: None,
            });
        }
        if self.gdpr.is_some() {
            out.push(RegimeReport {
                agreements: uses(Regime::Gdpr),
                bulk: None,
                counters: Vec::new(),
                exemption: None,
                regime: Regime::Gdpr,
                tier: None,
            });
        }
        out
    }
}
