//! A dry run: the same request, the same engine and the same counters as a decision, judged
//! now or as of a past instant (the register and the counters as they stood then), recorded
//! nowhere and counted nowhere.

use std::collections::HashSet;

use serde::Serialize;
use utoipa::ToSchema;

use super::engine::{self, GrantUse, Outcome, Reason};
use super::snapshot::Snapshot;
use crate::db::DbConn;
use crate::error::{DomainError, FieldError};
use crate::transfers::Enforcement;
use crate::transfers::law::RegimeReport;
use crate::transfers::rules::RuleSet;
use crate::transfers::volumes::Tally;

/// What a decision would answer now. Nothing is recorded: no id, no ledger entry, no counter.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"recorded": false, "outcome": "denied", "service": "newsletter",
    "reasons": [{"category": "user.contact.phone_number", "code": "category_not_granted",
        "evidence": {"granted_categories": ["user.contact.email"]}, "message": "No grant covers this category.",
        "remedy": {"action": "Grant the category to the party for this service (POST /v1/parties/{id}/grants).", "by": "procurement"}}],
    "grants": [], "regimes": [], "exporter": "acme-us", "rules_version": "2026-01",
    "register_revision": 1290, "evaluated_at": "2026-12-02T10:00:00.123456Z"}))]
pub struct Evaluation {
    /// Always false: an evaluation is never a decision.
    pub recorded: bool,
    /// `approved` or `denied`, as a decision would answer.
    pub outcome: Outcome,
    /// The service judged.
    pub service: String,
    /// Why it would be denied: one reason per failed check, each with its rule, evidence and remedy.
    pub reasons: Vec<Reason>,
    /// Under `report` enforcement: the transfer checks that would deny it once enforced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<Reason>,
    /// The grants that would approve each PII category (empty when denied).
    pub grants: Vec<GrantUse>,
    /// The cross-border regimes that apply, and what each found.
    pub regimes: Vec<RegimeReport>,
    /// The company entity that would export the data (the service's, or the one named).
    pub exporter: Option<String>,
    /// The transfer rule set judged with (`GET /v1/transfer-rules`).
    pub rules_version: String,
    /// The register revision judged.
    pub register_revision: i64,
    /// When it was asked.
    pub evaluated_at: String,
    /// Only when judged `as_of` a past instant: that instant (grants' validity, agreements and
    /// the volume windows are read at it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Only with `as_of`: the last ledger entry written at or before it — the register and the
    /// counters are those that entry left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

/// The register now: the writer's snapshot, brought up to the ledger's head in a copy of its
/// own if it is behind (a read never installs one for the writer).
pub fn current_snapshot(
    conn: &mut DbConn,
    slot: &std::sync::RwLock<std::sync::Arc<Snapshot>>,
) -> Result<std::sync::Arc<Snapshot>, DomainError> {
    let (_, _, revision) = crate::ledger::head(conn)?;
    let current = slot.read().map(|s| s.clone()).unwrap_or_default();
    Ok(if current.revision == revision {
        current
    } else {
        std::sync::Arc::new(current.advance(conn, revision)?)
    })
}

/// Judges `request` against the register now, or as it stood at `as_of` (an instant in the
/// stored form, not in the future). The outer error is storage's; the inner one the request's
/// own (unknown keys: 422).
pub fn evaluate(
    conn: &mut DbConn,
    slot: &std::sync::RwLock<std::sync::Arc<Snapshot>>,
    request: engine::Request,
    enforcement: Enforcement,
    as_of: Option<&str>,
) -> Result<Result<Evaluation, DomainError>, DomainError> {
    let asked = crate::time::now();
    let current = current_snapshot(conn, slot)?;
    let (snap, past) = match as_of {
        None => (current, None),
        Some(at) => {
            let past = super::as_of::snapshot_at(conn, &current, at)?;
            if let Some(e) = unknown_then(&request, &past.unknown_then) {
                return Ok(Err(e));
            }
            let seq = past.seq;
            (std::sync::Arc::new(past.snapshot), Some((at, seq)))
        }
    };
    let revision = snap.revision;
    if let Err(e) = super::batch::check_keys(&snap, &request) {
        return Ok(Err(e));
    }
    let rules = RuleSet::current();
    let now = past
        .and_then(|(at, _)| crate::time::parse(at))
        .unwrap_or(asked);
    let mut tally = Tally::new(rules.published.us_dsp.window_days);
    super::batch::load_counters(conn, &mut tally, &snap, &request, now, rules)?;
    if let Some((_, seq)) = past {
        crate::transfers::audit::rewind(conn, &mut tally, seq)?;
    }
    let verdict = engine::decide_with(&snap, rules, &tally, enforcement, &request, now);
    let explained = |mut reasons: Vec<Reason>| {
        super::explain::explain(&snap, &request, now, &mut reasons);
        reasons
    };
    Ok(Ok(Evaluation {
        recorded: false,
        outcome: verdict.outcome,
        service: request.service.clone(),
        reasons: explained(verdict.reasons(&request, rules)),
        advisories: explained(verdict.advisories(&request, rules)),
        grants: if verdict.outcome == Outcome::Approved {
            verdict.grants(&request)
        } else {
            Vec::new()
        },
        regimes: verdict.regimes(&request),
        exporter: verdict.exporter.map(str::to_owned),
        rules_version: rules.version().to_owned(),
        register_revision: revision,
        evaluated_at: crate::time::format(asked),
        as_of: past.map(|(at, _)| at.to_owned()),
        as_of_ledger_seq: past.map(|(_, seq)| seq),
    }))
}

/// A 422 naming each key of the request the taxonomy did not have yet at the instant judged.
fn unknown_then(request: &engine::Request, unknown: &HashSet<String>) -> Option<DomainError> {
    let why = "was not in the taxonomy at as_of (added later)";
    let mut errors: Vec<FieldError> = request
        .categories
        .iter()
        .enumerate()
        .filter(|(_, c)| unknown.contains(*c))
        .map(|(i, _)| FieldError::new(format!("categories[{i}]"), why))
        .collect();
    if unknown.contains(&request.purpose) {
        errors.push(FieldError::new("purpose", why));
    }
    (!errors.is_empty()).then_some(DomainError::Invalid(errors))
}
