//! A share judged by every regime that applies to it (docs/TRANSFERS.md "When each regime
//! applies" and "The regimes, per category"): [`Plan::new`] at request level — applicability,
//! request-level failures, counters, tiers and bulk — then [`Plan::judge`] for one category
//! under one covering grant.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::law::{
    AgreementFacts, CategoryFacts, CounterUse, EntityFacts, Failure, GrantFacts, PartyFacts,
    RegimeReport, Share, accepted, agreement_state, carries_covered_identifier, classes_of,
    dsp_covered, dsp_window_start, kinds_text, pipl_tier, pipl_year, rank,
};
use super::rules::RuleSet;
use super::volumes::{Counter, Volumes};
use super::{AgreementState, DspClass, Regime, Tier, TransferCode};

#[derive(Debug, Clone)]
struct Pipl {
    /// Tier of non-sensitive and of sensitive categories.
    tiers: [Tier; 2],
    counters: Vec<CounterUse>,
}

#[derive(Debug, Clone)]
struct Dsp {
    bulk: bool,
    classes: u8,
    exempt: bool,
    counters: Vec<CounterUse>,
}

#[derive(Debug, Clone)]
struct Gdpr {
    adequate: bool,
    day: NaiveDate,
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
    exporter: Option<String>,
    pipl: Option<Pipl>,
    dsp: Option<Dsp>,
    gdpr: Option<Gdpr>,
    minors: bool,
    government_related: bool,
    exemption: Option<super::Exemption>,
    /// Request-level failures, in regime order.
    pub failures: Vec<Failure>,
    /// What approval adds to the counters.
    pub increments: Vec<(Counter, i64)>,
    now: i64,
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
            pipl.counters.push(use_of(
                &counter,
                before,
                with_share,
                threshold,
                year.clone(),
            ));
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
                used
            })
            .collect()
    }

    /// Whether any regime applies to the share.
    pub fn any(&self) -> bool {
        self.pipl.is_some() || self.dsp.is_some() || self.gdpr.is_some()
    }

    /// Judges one personal category under one covering grant: the evidence each applicable
    /// regime accepted, or at most one failure per regime, the first in its list.
    pub fn judge(
        &self,
        rules: &RuleSet,
        category: &CategoryFacts,
        grant: &GrantFacts,
        party: &PartyFacts,
    ) -> Result<Vec<Evidence>, Vec<Failure>> {
        let mut evidence = Vec::new();
        let mut failures = Vec::new();
        let mut outcome = |r: Result<Option<Evidence>, Failure>| match r {
            Ok(e) => evidence.extend(e),
            Err(f) => failures.push(f),
        };
        if let (Some(pipl), Some(_)) = (&self.pipl, &self.exporter) {
            outcome(self.judge_pipl(rules, pipl, category, grant, party));
        }
        if let (Some(dsp), Some(_)) = (&self.dsp, &self.exporter) {
            outcome(self.judge_dsp(rules, dsp, category, grant, party));
        }
        if let Some(gdpr) = &self.gdpr {
            outcome(if gdpr.adequate {
                Ok(None)
            } else {
                self.mechanism(rules, Regime::Gdpr, Tier::Contract, grant, party, || {
                    format!(
                        "The destination or the party's country is not adequate on {} (GDPR Art. 45)",
                        gdpr.day
                    )
                })
            });
        }
        if failures.is_empty() {
            Ok(evidence)
        } else {
            Err(failures)
        }
    }

    fn judge_pipl(
        &self,
        rules: &RuleSet,
        pipl: &Pipl,
        category: &CategoryFacts,
        grant: &GrantFacts,
        party: &PartyFacts,
    ) -> Result<Option<Evidence>, Failure> {
        let fail = |code, message: String| Failure {
            regime: Regime::Pipl,
            code,
            message,
        };
        let exempt = match self.exemption {
            Some(e) if grant.exemptions & (1 << e as u8) == 0 => {
                return Err(fail(
                    TransferCode::ExemptionNotGranted,
                    format!(
                        "The grant does not list the exemption `{e}` claimed (CAC 2024 Art. 5)."
                    ),
                ));
            }
            Some(_) => true,
            None => false,
        };
        if !grant.pipia || !grant.separate_consent {
            return Err(fail(
                TransferCode::PiplPrerequisiteMissing,
                "PRC personal information leaving the mainland needs the grant's `pipia_reference` and `separate_consent: true` (PIPL Arts. 55, 39).".into(),
            ));
        }
        let sensitive = self.minors || category.pipl_sensitive;
        let tier = pipl.tiers[usize::from(sensitive)];
        if exempt || tier == Tier::Exempt {
            return Ok(None);
        }
        let counter = pipl.counters.iter().find(|c| {
            c.key.ends_with(if sensitive {
                ":sensitive"
            } else {
                ":non_sensitive"
            })
        });
        self.mechanism(rules, Regime::Pipl, tier, grant, party, || match counter {
            Some(c) => format!(
                "The {tier} tier applies: {} is {} in {} with this share (threshold {})",
                c.key, c.with_share, c.window, c.threshold
            ),
            None => format!("The {tier} tier applies (a CIIO exporter)"),
        })
    }

    fn judge_dsp(
        &self,
        rules: &RuleSet,
        dsp: &Dsp,
        category: &CategoryFacts,
        grant: &GrantFacts,
        party: &PartyFacts,
    ) -> Result<Option<Evidence>, Failure> {
        let classes = classes_of(category, dsp.classes);
        if (classes == 0 && !self.government_related) || dsp.exempt || !dsp.bulk {
            return Ok(None);
        }
        let crossed = || match dsp
            .counters
            .iter()
            .max_by_key(|c| c.with_share - c.threshold)
        {
            Some(c) if !self.government_related => format!(
                "The share is at bulk: {} is {} over {} with this share (more than {})",
                c.key, c.with_share, c.window, c.threshold
            ),
            _ => "Government-related data is restricted at any volume (28 CFR 202.222)".into(),
        };
        if classes & DspClass::Genomic.bit() != 0 {
            return Err(Failure {
                regime: Regime::UsDsp,
                code: TransferCode::UsDspProhibited,
                message: format!(
                    "{}; bulk human genomic data may not go to a covered person (28 CFR 202.303).",
                    crossed()
                ),
            });
        }
        self.mechanism(rules, Regime::UsDsp, Tier::Contract, grant, party, crossed)
    }

    /// The grant's best agreement of a kind the regime accepts at `tier`, for this exporter.
    fn mechanism(
        &self,
        rules: &RuleSet,
        regime: Regime,
        tier: Tier,
        grant: &GrantFacts,
        party: &PartyFacts,
        why: impl Fn() -> String,
    ) -> Result<Option<Evidence>, Failure> {
        let (kinds, family) = accepted(regime, tier);
        let exporter = self.exporter.as_deref().unwrap_or("");
        let of_grant: Vec<&AgreementFacts> = party
            .agreements
            .iter()
            .filter(|a| a.exporter == exporter && grant.agreements.contains(&a.id))
            .collect();
        let fail = |code, detail: String| Failure {
            regime,
            code,
            message: format!("{}; {detail}", why()),
        };
        let needed = format!(
            "the grant needs an agreement of kind {} for exporter `{exporter}`.",
            kinds_text(kinds)
        );
        let best = of_grant
            .iter()
            .filter(|a| kinds.contains(&a.kind))
            .map(|a| (agreement_state(a, self.now, rules), *a))
            .min_by_key(|(s, a)| {
                (
                    rank(*s),
                    std::cmp::Reverse(a.valid_until.unwrap_or(i64::MAX)),
                )
            });
        let Some((state, agreement)) = best else {
            let below = regime == Regime::Pipl && of_grant.iter().any(|a| family.contains(&a.kind));
            return Err(if below {
                fail(
                    TransferCode::TransferMechanismInsufficient,
                    format!("its PIPL agreements are below the tier: {needed}"),
                )
            } else {
                fail(TransferCode::TransferMechanismMissing, needed)
            });
        };
        let code = match state {
            AgreementState::InForce => {
                return Ok(Some(Evidence {
                    regime,
                    agreement_id: agreement.id.clone(),
                    state,
                }));
            }
            AgreementState::Incomplete => TransferCode::TransferMechanismIncomplete,
            AgreementState::NotYetValid => TransferCode::TransferMechanismNotYetValid,
            AgreementState::Expired => TransferCode::TransferMechanismExpired,
            AgreementState::Withdrawn => TransferCode::TransferMechanismWithdrawn,
        };
        let what = match (state, agreement.kind) {
            (AgreementState::Incomplete, super::AgreementKind::EuScc) => {
                "lacks its `tia_reference`"
            }
            (AgreementState::Incomplete, super::AgreementKind::PiplStandardContract)
                if agreement.pipia =>
            {
                "lacks its `filing_reference`, due 14 days after `valid_from`"
            }
            (AgreementState::Incomplete, _) => "lacks its `pipia_reference`",
            (AgreementState::NotYetValid, _) => "is not valid yet",
            (AgreementState::Expired, _) => "has expired",
            _ => "was withdrawn",
        };
        Err(fail(
            code,
            format!(
                "agreement {} ({}) {what}; {needed}",
                agreement.id, agreement.kind
            ),
        ))
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
