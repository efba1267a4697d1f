//! What the engine decided, and the reasons, grants and regime reports it gives.

use super::engine::{GrantUse, Outcome, Request};
use super::few::Few;
use super::reasons::{Reason, ReasonCode};
use crate::transfers::law::Failure;
use crate::transfers::plan::{Evidence, Plan};
use crate::transfers::rules::RuleSet;

/// A failed scope check as the engine finds it: the code, and for category-level checks the
/// index of the category in the request. [`Verdict::reasons`] turns findings into [`Reason`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub code: ReasonCode,
    pub category: Option<usize>,
}

impl Default for Finding {
    fn default() -> Self {
        Finding {
            code: ReasonCode::ServiceUnknown,
            category: None,
        }
    }
}

/// A PII category (its index in the request) and the grant that approved it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Approval<'s> {
    pub category: usize,
    pub grant_id: &'s str,
}

/// What the engine decided. It borrows from the snapshot; the owned, serialisable form comes
/// from [`Verdict::reasons`], [`Verdict::grants`] and [`Verdict::regimes`].
#[derive(Debug, Clone)]
pub struct Verdict<'s> {
    pub outcome: Outcome,
    pub findings: Few<Finding, 4>,
    pub approvals: Few<Approval<'s>, 4>,
    /// Failed transfer checks, with the category's index for category-level ones.
    pub transfer: Vec<(Option<usize>, Failure)>,
    /// Failed checks of the approved categories' onward routes (their sub-processors).
    pub onward: Vec<super::onward::Onward<'s>>,
    /// With `report` enforcement: the transfer checks that failed, which did not decide.
    pub advisory: bool,
    /// The regimes that applied, and what approval adds to the counters.
    pub plan: Plan,
    /// The evidence each regime accepted or judged, by category index.
    pub evidence: Vec<(usize, Evidence)>,
    /// The resolved exporting entity.
    pub exporter: Option<&'s str>,
}

impl Verdict<'_> {
    fn transfer_reason(
        &self,
        req: &Request,
        rules: &RuleSet,
        index: Option<usize>,
        f: &Failure,
    ) -> Reason {
        Reason {
            category: index.map(|i| req.categories[i].clone()),
            code: f.code.into(),
            evidence: None,
            message: f.message.clone(),
            regime: Some(f.regime),
            remedy: None,
            rule: Some(rules.rule(f.code.as_str(), f.regime).to_owned()),
            via: None,
        }
    }

    fn onward_reason(&self, req: &Request, rules: &RuleSet, o: &super::onward::Onward) -> Reason {
        let mut reason = match &o.hop {
            super::onward::Hop::Scope(code) => {
                Reason::scope(*code, Some(req.categories[o.category].clone()))
            }
            super::onward::Hop::Transfer(f) => {
                self.transfer_reason(req, rules, Some(o.category), f)
            }
        };
        reason.via = Some(o.via.to_owned());
        reason
    }

    fn all_reasons(&self, req: &Request, rules: &RuleSet) -> Vec<Reason> {
        let scope =
            |f: &Finding| Reason::scope(f.code, f.category.map(|i| req.categories[i].clone()));
        let mut out: Vec<Reason> = self
            .findings
            .iter()
            .filter(|f| f.category.is_none())
            .map(scope)
            .collect();
        for (i, f) in self.transfer.iter().filter(|(i, _)| i.is_none()) {
            out.push(self.transfer_reason(req, rules, *i, f));
        }
        for index in 0..req.categories.len() {
            out.extend(
                self.findings
                    .iter()
                    .filter(|f| f.category == Some(index))
                    .map(scope),
            );
            for (i, f) in self.transfer.iter().filter(|(i, _)| *i == Some(index)) {
                out.push(self.transfer_reason(req, rules, *i, f));
            }
            for o in self.onward.iter().filter(|o| o.category == index) {
                out.push(self.onward_reason(req, rules, o));
            }
        }
        out
    }

    /// One reason per failed check that decided, in the order of docs/TRANSFERS.md "How the
    /// codes combine"; `req` is the request decided.
    pub fn reasons(&self, req: &Request, rules: &RuleSet) -> Vec<Reason> {
        let all = self.all_reasons(req, rules);
        if self.advisory {
            all.into_iter().filter(|r| r.regime.is_none()).collect()
        } else {
            all
        }
    }

    /// With `report` enforcement, the transfer reasons that would have denied.
    pub fn advisories(&self, req: &Request, rules: &RuleSet) -> Vec<Reason> {
        if !self.advisory {
            return Vec::new();
        }
        self.all_reasons(req, rules)
            .into_iter()
            .filter(|r| r.regime.is_some())
            .collect()
    }

    /// The grant that approved each PII category; `req` is the request decided.
    pub fn grants(&self, req: &Request) -> Vec<GrantUse> {
        self.approvals
            .iter()
            .map(|a| GrantUse {
                category: req.categories[a.category].clone(),
                grant_id: a.grant_id.to_owned(),
            })
            .collect()
    }

    /// What each regime that applied judged.
    pub fn regimes(&self, req: &Request) -> Vec<crate::transfers::law::RegimeReport> {
        let named: Vec<(String, Evidence)> = self
            .evidence
            .iter()
            .map(|(i, e)| (req.categories[*i].clone(), e.clone()))
            .collect();
        self.plan.reports(&named)
    }
}
