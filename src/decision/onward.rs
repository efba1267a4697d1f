//! Onward transfers: a share approved to a party goes on to the sub-processors it declared for
//! the share's service and categories; each hop of that route is judged (docs/TRANSFERS.md
//! "Onward transfers"). Pure, like the engine.

use chrono::{DateTime, Utc};

use super::few::Few;
use super::snapshot::{GrantEntry, PartyEntry, Snapshot};
use super::verdict::Approval;
use crate::decision::engine::{ReasonCode, Request};
use crate::transfers::TransferCode;
use crate::transfers::law::{CategoryFacts, EntityFacts, Failure, PartyFacts, Share};
use crate::transfers::plan::Plan;
use crate::transfers::rules::RuleSet;
use crate::transfers::volumes::Volumes;

/// A sub-processor as the engine reads it.
#[derive(Debug, Clone)]
pub struct SubEntry {
    pub processor: crate::registry::parties::SubProcessor,
    /// The start (UTC) of `authorised_on` in microseconds; `None`: not authorised (or the
    /// stored date does not parse: fails closed).
    pub authorised_from: Option<i64>,
}

impl SubEntry {
    pub fn new(processor: crate::registry::parties::SubProcessor) -> SubEntry {
        SubEntry {
            authorised_from: processor
                .authorised_on
                .as_deref()
                .and_then(crate::time::parse_date)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_micros()),
            processor,
        }
    }
}

/// What failed on a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    /// A scope check: the sub-processor's trust, authorisation or processing countries.
    Scope(ReasonCode),
    /// A transfer check of the hop to one of its countries.
    Transfer(Failure),
}

/// A failed check of an approved category's route, through the sub-processor `via`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onward<'s> {
    /// The category's index in the request.
    pub category: usize,
    /// The sub-processor's party id.
    pub via: &'s str,
    pub hop: Hop,
}

/// What the route's judgement reads besides the snapshot.
pub(super) struct Route<'a, 's> {
    pub snap: &'s Snapshot,
    pub rules: &'a RuleSet,
    pub volumes: &'a dyn Volumes,
    pub req: &'a Request,
    pub share: &'a Share<'a>,
    pub exporter: Option<(&'s str, &'s EntityFacts)>,
    pub facts: &'a [CategoryFacts],
    pub now: DateTime<Utc>,
}

impl<'s> Route<'_, 's> {
    /// The failed hops of every approved category's route, category by category, each
    /// sub-processor in the order the party lists them.
    pub fn judge(
        &self,
        party: &'s PartyEntry,
        grants: &'s [GrantEntry],
        approvals: &Few<Approval<'s>, 4>,
    ) -> Vec<Onward<'s>> {
        let mut out = Vec::new();
        if party.sub_processors.is_empty() {
            return out;
        }
        let micros = self.now.timestamp_micros();
        for a in approvals.iter() {
            let category = &self.req.categories[a.category];
            let Some(grant) = grants.iter().find(|g| g.id == a.grant_id) else {
                continue;
            };
            for sub in &party.sub_processors {
                let p = &sub.processor;
                if !p.receives(&self.req.service, category) {
                    continue;
                }
                let via = p.party_id.as_str();
                let mut fail = |hop| {
                    out.push(Onward {
                        category: a.category,
                        via,
                        hop,
                    })
                };
                let Some(next) = self.snap.parties.get(via).filter(|n| n.trusted) else {
                    fail(Hop::Scope(ReasonCode::SubProcessorNotTrusted));
                    continue;
                };
                if sub.authorised_from.is_none_or(|from| micros < from) {
                    fail(Hop::Scope(ReasonCode::SubProcessorNotAuthorised));
                    continue;
                }
                if p.countries.iter().any(|c| !next.locations.contains(c)) {
                    fail(Hop::Scope(ReasonCode::DestinationNotDeclared));
                }
                let mut seen: Vec<Failure> = Vec::new();
                for country in &p.countries {
                    for f in self.hop(party, next, via, country, a.category, grant) {
                        if !seen.contains(&f) {
                            seen.push(f.clone());
                            fail(Hop::Transfer(f));
                        }
                    }
                }
            }
        }
        out
    }

    /// The transfer failures of the hop to `next` in `country`, for one category on `grant`:
    /// `next` is the recipient (its country, certification, lists), and the agreements are
    /// those the grant lists with `party`, which must flow down the route. The exporter was
    /// judged on the first hop: its absence is not repeated.
    fn hop(
        &self,
        party: &PartyEntry,
        next: &PartyEntry,
        via: &str,
        country: &str,
        category: usize,
        grant: &GrantEntry,
    ) -> Vec<Failure> {
        let share = Share {
            destination: country,
            party_id: via,
            ..self.share.clone()
        };
        let recipient = PartyFacts {
            agreements: party.facts.agreements.clone(),
            ..next.facts.clone()
        };
        let plan = Plan::new(
            self.rules,
            &share,
            &recipient,
            self.exporter,
            self.facts,
            self.volumes,
            self.now,
        );
        if !plan.any() {
            return Vec::new();
        }
        let mut failures: Vec<Failure> = plan
            .failures
            .iter()
            .filter(|f| f.code != TransferCode::ExporterNotDeclared)
            .cloned()
            .collect();
        if let Err(more) = plan.judge(self.rules, &self.facts[category], &grant.facts, &recipient) {
            failures.extend(more);
        }
        failures
    }
}
