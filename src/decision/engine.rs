//! The decision engine: pure, with no I/O and no clock. It takes a register snapshot, the rule
//! set, the volume counters, a request and the instant of the decision, and returns the outcome
//! with one reason per failed check and what approval adds to the counters. The scope rules are
//! DESIGN.md's "How a decision is made", in its order; the transfer rules docs/TRANSFERS.md's,
//! judged by [`crate::transfers::plan`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::few::Few;
use super::onward::{Hop, Route};
use super::snapshot::{GrantEntry, Snapshot};
use crate::taxonomy::covers;
use crate::transfers::law::{CategoryFacts, EntityFacts, Failure, Share};
use crate::transfers::plan::{Evidence, Plan};
use crate::transfers::rules::RuleSet;
use crate::transfers::volumes::{Nothing, Volumes};
use crate::transfers::{Enforcement, Exemption};
use crate::types::Region;

pub use super::reasons::{ALL_CODES, Reason, ReasonCode};
pub use super::verdict::{Approval, Finding, Verdict};

/// A request as the engine sees it (already validated: known keys, real country codes).
#[derive(Debug, Clone)]
pub struct Request {
    pub service: String,
    pub party_id: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub destination_country: String,
    /// Where the data subjects live.
    pub subject_country: String,
    /// Where the data was collected or generated.
    pub data_origin_country: String,
    /// Distinct people in this share, 1–10^9.
    pub subject_count: i64,
    /// Devices, counted instead of people for precise geolocation.
    pub device_count: Option<i64>,
    /// The exporting entity named by the request.
    pub exporter: Option<String>,
    pub exemption: Option<Exemption>,
    pub subjects_include_minors_under_14: bool,
    pub us_government_related: bool,
}

impl Request {
    /// A request with no transfer facts beyond the subjects' country (one person, data from
    /// where they live, no exporter named).
    pub fn new(
        service: &str,
        party_id: &str,
        purpose: &str,
        categories: &[&str],
        destination_country: &str,
        subject_country: &str,
    ) -> Request {
        Request {
            service: service.into(),
            party_id: party_id.into(),
            purpose: purpose.into(),
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            destination_country: destination_country.into(),
            subject_country: subject_country.into(),
            data_origin_country: subject_country.into(),
            subject_count: 1,
            device_count: None,
            exporter: None,
            exemption: None,
            subjects_include_minors_under_14: false,
            us_government_related: false,
        }
    }

    /// The region of the subjects' country (kept on every decision for older readers).
    pub fn subject_region(&self) -> Region {
        Region::of(&self.subject_country)
    }
}

/// The grant that approved a PII category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantUse {
    // Members in RFC 8785 order, like `Reason`'s.
    /// A category of the request.
    pub category: String,
    /// The grant that covers it.
    pub grant_id: String,
}

crate::types::text_enum! {
    /// `approved` only when no check failed; otherwise `denied`.
    pub enum Outcome {
        Approved = "approved",
        Denied = "denied",
    }
}

fn finding(code: ReasonCode) -> Finding {
    Finding {
        code,
        category: None,
    }
}

/// The exporting entity of a request: the one it names when the service lists it, else the
/// service's only entity; an inactive entity exports nothing.
pub fn exporter_of<'s>(snap: &'s Snapshot, req: &Request) -> Option<(&'s str, &'s EntityFacts)> {
    let service = snap.services.get(&req.service)?;
    let key = match &req.exporter {
        Some(named) => service.entities.iter().find(|e| *e == named)?,
        None if service.entities.len() == 1 => &service.entities[0],
        None => return None,
    };
    let entity = snap.entities.get(key).filter(|e| e.active)?;
    Some((key.as_str(), entity))
}

/// Decides `req` against `snap` at `now` with the compiled rule set and no prior volumes (the
/// scope rules, and the regimes as if nothing had been sent before).
pub fn decide<'s>(snap: &'s Snapshot, req: &Request, now: DateTime<Utc>) -> Verdict<'s> {
    decide_with(
        snap,
        RuleSet::current(),
        &Nothing,
        Enforcement::Enforce,
        req,
        now,
    )
}

/// Decides `req` against `snap` at `now`, reading the counters from `volumes`.
pub fn decide_with<'s>(
    snap: &'s Snapshot,
    rules: &RuleSet,
    volumes: &dyn Volumes,
    enforcement: Enforcement,
    req: &Request,
    now: DateTime<Utc>,
) -> Verdict<'s> {
    debug_assert!(
        snap.is_indexed(),
        "Snapshot::index must run before deciding"
    );
    let mut findings = Few::default();
    let mut approvals = Few::default();
    let mut transfer = Vec::new();
    let mut evidence = Vec::new();
    let mut plan = Plan::default();
    let mut onward = Vec::new();
    let exporter = exporter_of(snap, req);

    let service = snap.services.get(&req.service);
    match service {
        None => findings.push(finding(ReasonCode::ServiceUnknown)),
        Some(s) => {
            if !s.active {
                findings.push(finding(ReasonCode::ServiceInactive));
            }
            if !s.purposes.iter().any(|p| covers(p, &req.purpose)) {
                findings.push(finding(ReasonCode::PurposeNotDeclared));
            }
        }
    }
    if snap.purposes.get(&req.purpose).copied().unwrap_or(false) {
        findings.push(finding(ReasonCode::PurposeProhibited));
    }
    let party = snap.parties.get(&req.party_id);
    match party {
        None => findings.push(finding(ReasonCode::PartyUnknown)),
        Some(p) => {
            if !p.trusted {
                findings.push(finding(ReasonCode::PartyNotTrusted));
            }
            if !p.locations.contains(&req.destination_country) {
                findings.push(finding(ReasonCode::DestinationNotDeclared));
            }
        }
    }

    if let (Some(service), Some(party)) = (service, party) {
        let candidates: &[GrantEntry] = party.grants_for(service.id);
        // Requests are validated against the taxonomy, so every key has an id.
        let ids: Few<Option<u32>, 16> = req.categories.iter().map(|c| snap.id(c)).collect();
        let any_pii = ids.iter().flatten().any(|id| snap.interned(*id).pii);
        let mut facts: Vec<CategoryFacts> = ids
            .iter()
            .map(|id| match id {
                Some(id) => {
                    let m = snap.interned(*id);
                    CategoryFacts {
                        personal: m.pii || m.linkable,
                        pipl_sensitive: m.pipl_sensitive,
                        dsp_classes: m.dsp_classes,
                        contact_name_or_demographic: m.contact_name_or_demographic,
                    }
                }
                None => CategoryFacts::default(),
            })
            .collect();
        let share = Share {
            subject_country: &req.subject_country,
            origin: &req.data_origin_country,
            destination: &req.destination_country,
            subject_count: req.subject_count,
            device_count: req.device_count,
            exemption: req.exemption,
            minors_under_14: req.subjects_include_minors_under_14,
            government_related: req.us_government_related,
            party_id: &req.party_id,
            ancillary_purpose: snap.ancillary.contains(&req.purpose),
        };
        plan = Plan::new(rules, &share, &party.facts, exporter, &facts, volumes, now);
        // Linkable data is personal when sent with PII, and for any regime that applies.
        if !plan.any() && !any_pii {
            for f in &mut facts {
                f.personal = false;
            }
            plan = Plan::default();
        }
        transfer.extend(plan.failures.iter().cloned().map(|f| (None, f)));
        let destination = Region::of(&req.destination_country);
        let micros = now.timestamp_micros();
        for (index, id) in ids.iter().enumerate() {
            let Some(id) = *id else {
                findings.push(Finding {
                    code: ReasonCode::CategoryNotGranted,
                    category: Some(index),
                });
                continue;
            };
            if !facts[index].personal {
                continue;
            }
            let judge = Judge {
                snap,
                rules,
                plan: &plan,
                party: &party.facts,
            };
            match judge.category(candidates, id, &facts[index], destination, micros) {
                Judged::Approved(grant_id, used) => {
                    approvals.push(Approval {
                        category: index,
                        grant_id,
                    });
                    evidence.extend(used.into_iter().map(|e| (index, e)));
                }
                Judged::Scope(code) => findings.push(Finding {
                    code,
                    category: Some(index),
                }),
                Judged::Transfer(failures) => {
                    transfer.extend(failures.into_iter().map(|f| (Some(index), f)));
                }
            }
        }
        let route = Route {
            snap,
            rules,
            volumes,
            req,
            share: &share,
            exporter,
            facts: &facts,
            now,
        };
        onward = route.judge(party, candidates, &approvals);
    }

    let onward_scope = onward.iter().any(|o| matches!(o.hop, Hop::Scope(_)));
    let transfer_failed =
        !transfer.is_empty() || onward.iter().any(|o| matches!(o.hop, Hop::Transfer(_)));
    let advisory = enforcement == Enforcement::Report && transfer_failed;
    let outcome = if findings.is_empty() && !onward_scope && (!transfer_failed || advisory) {
        Outcome::Approved
    } else {
        Outcome::Denied
    };
    Verdict {
        outcome,
        findings,
        approvals,
        transfer,
        onward,
        advisory,
        plan,
        evidence,
        exporter: exporter.map(|(k, _)| k),
    }
}

enum Judged<'s> {
    Approved(&'s str, Vec<Evidence>),
    Scope(ReasonCode),
    Transfer(Vec<Failure>),
}

struct Judge<'a> {
    snap: &'a Snapshot,
    rules: &'a RuleSet,
    plan: &'a Plan,
    party: &'a crate::transfers::law::PartyFacts,
}

impl Judge<'_> {
    /// One personal category against the party's grants for the service: the oldest covering
    /// grant that passes the scope checks and every regime approves it; else the transfer
    /// failures of the oldest that passes the scope checks; else the single scope code that
    /// explains the denial (the first of DESIGN.md's list that applies).
    fn category<'s>(
        &self,
        grants: &'s [GrantEntry],
        category: u32,
        facts: &CategoryFacts,
        destination: Region,
        now: i64,
    ) -> Judged<'s> {
        let snap = self.snap;
        let ancestors = &snap.interned(category).ancestors;
        let mut region_blocked = false;
        let mut not_yet_valid = false;
        let mut expired = false;
        let mut revoked = false;
        let mut not_approved = false;
        let mut narrower = false;
        let mut first_failures: Option<Vec<Failure>> = None;
        for g in grants {
            if !g.category_ids.iter().any(|k| ancestors.contains(k)) {
                narrower |= g
                    .category_ids
                    .iter()
                    .any(|k| snap.interned(*k).ancestors.contains(&category));
                continue;
            }
            if g.revoked {
                revoked = true;
            } else if !g.approved {
                not_approved = true;
            } else if now < g.valid_from {
                not_yet_valid = true;
            } else if g.valid_until.is_some_and(|u| now >= u) {
                expired = true;
            } else if !g.allows(destination) {
                region_blocked = true;
            } else if !self.plan.any() {
                return Judged::Approved(&g.id, Vec::new());
            } else {
                match self.plan.judge(self.rules, facts, &g.facts, self.party) {
                    Ok(used) => return Judged::Approved(&g.id, used),
                    Err(failures) => {
                        first_failures.get_or_insert(failures);
                    }
                }
            }
        }
        if let Some(failures) = first_failures {
            return Judged::Transfer(failures);
        }
        Judged::Scope(if region_blocked {
            ReasonCode::DestinationRegionNotAllowed
        } else if not_approved {
            ReasonCode::GrantNotApproved
        } else if not_yet_valid {
            ReasonCode::GrantNotYetValid
        } else if expired {
            ReasonCode::GrantExpired
        } else if revoked {
            ReasonCode::GrantRevoked
        } else if narrower {
            ReasonCode::CategoryTooBroad
        } else {
            ReasonCode::CategoryNotGranted
        })
    }
}
