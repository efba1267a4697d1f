//! One category under one covering grant, judged by each regime that applies to the share
//! ([`Plan::judge`]): at most one failure per regime, the first in its list, and the agreement
//! that backs it otherwise (docs/TRANSFERS.md "The regimes, per category" and "Agreements to
//! codes").

use super::law::{
    AgreementFacts, CategoryFacts, Failure, GrantFacts, PartyFacts, accepted, agreement_state,
    classes_of, kinds_text, rank,
};
use super::plan::{Dsp, Evidence, Pipl, Plan};
use super::rules::RuleSet;
use super::{AgreementState, DspClass, Regime, Tier, TransferCode};

impl Plan {
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
}
