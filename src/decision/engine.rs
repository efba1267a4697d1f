//! The decision engine: pure, with no I/O and no clock. It takes a register snapshot, a request
//! and the instant of the decision, and returns the outcome with one reason per failed check.
//! The rules are DESIGN.md's "How a decision is made", in its order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::few::Few;
use super::snapshot::{GrantEntry, Snapshot};
use crate::taxonomy::covers;
use crate::types::Region;

/// Why a check failed. A closed set:
/// - `service_unknown`: the requesting service is not registered;
/// - `service_inactive`: the service is registered but inactive;
/// - `purpose_not_declared`: the purpose is not covered by one the service declares;
/// - `purpose_prohibited`: the purpose is prohibited (sale, rental), whatever the grants say;
/// - `party_unknown`: no such party;
/// - `party_not_trusted`: the party is pending review, suspended or offboarded;
/// - `destination_not_declared`: the party does not declare processing in the destination country;
/// - `destination_region_not_allowed`: a valid covering grant exists but not for the destination's region;
/// - `transfer_mechanism_missing`: a valid covering grant exists but lacks the PIPL mechanism that PRC subjects' data sent outside the PRC needs;
/// - `grant_not_yet_valid`: the covering grant's validity has not begun;
/// - `grant_expired`: the covering grant's validity has ended;
/// - `grant_revoked`: the covering grant was revoked;
/// - `category_too_broad`: no grant covers the category, but one covers a narrower category under it;
/// - `category_not_granted`: no grant covers the category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    ServiceUnknown,
    ServiceInactive,
    PurposeNotDeclared,
    PurposeProhibited,
    PartyUnknown,
    PartyNotTrusted,
    CategoryNotGranted,
    CategoryTooBroad,
    GrantExpired,
    GrantNotYetValid,
    GrantRevoked,
    DestinationNotDeclared,
    DestinationRegionNotAllowed,
    TransferMechanismMissing,
}

impl ReasonCode {
    pub fn message(self) -> &'static str {
        match self {
            ReasonCode::ServiceUnknown => "The requesting service is not registered.",
            ReasonCode::ServiceInactive => "The requesting service is inactive.",
            ReasonCode::PurposeNotDeclared => "The service is not declared for this purpose.",
            ReasonCode::PurposeProhibited => "The privacy policy prohibits this purpose.",
            ReasonCode::PartyUnknown => "No such party.",
            ReasonCode::PartyNotTrusted => "The party is not trusted.",
            ReasonCode::CategoryNotGranted => "No grant covers this category.",
            ReasonCode::CategoryTooBroad => {
                "No grant covers this category; a grant covers only narrower categories under it."
            }
            ReasonCode::GrantExpired => "The grant covering this category has expired.",
            ReasonCode::GrantNotYetValid => "The grant covering this category is not valid yet.",
            ReasonCode::GrantRevoked => "The grant covering this category was revoked.",
            ReasonCode::DestinationNotDeclared => {
                "The party does not declare processing data in the destination country."
            }
            ReasonCode::DestinationRegionNotAllowed => {
                "The grant covering this category does not allow the destination's region."
            }
            ReasonCode::TransferMechanismMissing => {
                "PRC subjects' data sent outside the PRC needs a PIPL transfer mechanism on the grant."
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        ALL_CODES[self as usize]
    }
}

/// Every code, in declaration order.
pub const ALL_CODES: [&str; 14] = [
    "service_unknown",
    "service_inactive",
    "purpose_not_declared",
    "purpose_prohibited",
    "party_unknown",
    "party_not_trusted",
    "category_not_granted",
    "category_too_broad",
    "grant_expired",
    "grant_not_yet_valid",
    "grant_revoked",
    "destination_not_declared",
    "destination_region_not_allowed",
    "transfer_mechanism_missing",
];

/// A request as the engine sees it (already validated: known keys, real country codes).
#[derive(Debug, Clone)]
pub struct Request {
    pub service: String,
    pub party_id: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub destination_country: String,
    pub subject_region: Region,
}

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    // Members in RFC 8785 order: the ledger writes decisions canonically without building a
    // JSON tree (see `store::canonical_change`).
    /// The category concerned, for category-level checks; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub code: ReasonCode,
    /// A sentence for people.
    pub message: String,
}

/// The grant that approved a PII category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantUse {
    // Members in RFC 8785 order, like `Reason`'s.
    pub category: String,
    pub grant_id: String,
}

crate::types::text_enum! {
    /// `approved` only when no check failed; otherwise `denied`.
    pub enum Outcome {
        Approved = "approved",
        Denied = "denied",
    }
}

/// A failed check as the engine finds it: the code, and for category-level checks the index of
/// the category in the request. [`Verdict::reasons`] turns findings into [`Reason`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub code: ReasonCode,
    pub category: Option<usize>,
}

impl Default for Finding {
    fn default() -> Self {
        finding(ReasonCode::ServiceUnknown)
    }
}

/// A PII category (its index in the request) and the grant that approved it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Approval<'s> {
    pub category: usize,
    pub grant_id: &'s str,
}

/// What the engine decided. It borrows from the snapshot and allocates only when a check fails
/// or a PII category is approved; the owned, serialisable form comes from [`Verdict::reasons`]
/// and [`Verdict::grants`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'s> {
    pub outcome: Outcome,
    pub findings: Few<Finding, 4>,
    pub approvals: Few<Approval<'s>, 4>,
}

impl Verdict<'_> {
    /// One reason per failed check, with its message; `req` is the request decided.
    pub fn reasons(&self, req: &Request) -> Vec<Reason> {
        self.findings
            .iter()
            .map(|f| Reason {
                category: f.category.map(|i| req.categories[i].clone()),
                code: f.code,
                message: f.code.message().to_owned(),
            })
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
}

fn finding(code: ReasonCode) -> Finding {
    Finding {
        code,
        category: None,
    }
}

/// Decides `req` against `snap` at `now`.
pub fn decide<'s>(snap: &'s Snapshot, req: &Request, now: DateTime<Utc>) -> Verdict<'s> {
    debug_assert!(
        snap.is_indexed(),
        "Snapshot::index must run before deciding"
    );
    let mut findings = Few::default();
    let mut approvals = Few::default();

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
        let destination = Region::of(&req.destination_country);
        let needs_pipl = req.subject_region == Region::Prc && destination != Region::Prc;
        let micros = now.timestamp_micros();
        for (index, id) in ids.iter().enumerate() {
            let Some(id) = *id else {
                findings.push(Finding {
                    code: ReasonCode::CategoryNotGranted,
                    category: Some(index),
                });
                continue;
            };
            let marks = snap.interned(id);
            if !(marks.pii || (any_pii && marks.linkable)) {
                continue;
            }
            match judge(snap, candidates, id, destination, needs_pipl, micros) {
                Ok(grant_id) => approvals.push(Approval {
                    category: index,
                    grant_id,
                }),
                Err(code) => findings.push(Finding {
                    code,
                    category: Some(index),
                }),
            }
        }
    }

    let outcome = if findings.is_empty() {
        Outcome::Approved
    } else {
        Outcome::Denied
    };
    Verdict {
        outcome,
        findings,
        approvals,
    }
}

/// One PII category against the party's grants for the service: the approving grant, or the
/// single code that explains the denial (the first of DESIGN.md's list that applies).
fn judge<'s>(
    snap: &Snapshot,
    grants: &'s [GrantEntry],
    category: u32,
    destination: Region,
    needs_pipl: bool,
    now: i64,
) -> Result<&'s str, ReasonCode> {
    let ancestors = &snap.interned(category).ancestors;
    let mut region_blocked = false;
    let mut mechanism_missing = false;
    let mut not_yet_valid = false;
    let mut expired = false;
    let mut revoked = false;
    let mut narrower = false;
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
        } else if now < g.valid_from {
            not_yet_valid = true;
        } else if g.valid_until.is_some_and(|u| now >= u) {
            expired = true;
        } else if !g.allows(destination) {
            region_blocked = true;
        } else if needs_pipl && !g.mechanism_is_pipl {
            mechanism_missing = true;
        } else {
            return Ok(&g.id);
        }
    }
    Err(if region_blocked {
        ReasonCode::DestinationRegionNotAllowed
    } else if mechanism_missing {
        ReasonCode::TransferMechanismMissing
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
