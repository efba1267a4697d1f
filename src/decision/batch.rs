//! One batch of decisions inside the writer's transaction: the snapshot brought up to the
//! revision read under the head lock, idempotency, the engine, and the records written.

use super::engine;
use super::record::{Decision, canonical_change};
use super::snapshot::Snapshot;
use super::store::{self, Row};
use crate::db::DbConn;
use crate::error::{DomainError, FieldError};
use crate::ledger::{Subject, action};
use crate::transfers::rules::RuleSet;
use crate::transfers::volumes::{self, Tally};
use crate::transfers::{Enforcement, Regime};
use crate::types::hints;

/// What the transaction produced: a new decision, or the replay of an earlier one.
pub enum Made {
    /// A new decision, with the JSON it was stored as (and is answered with).
    New {
        decision: Box<Decision>,
        body: String,
    },
    /// The stored answer to the same request made earlier.
    Replayed { id: String, body: String },
}

/// The idempotency key of a request, with the hash of its body.
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// Brings the node's snapshot up to `revision`, the register revision read under the head lock:
/// a register change answered before the lock was granted is always seen.
pub fn current_snapshot(
    conn: &mut DbConn,
    slot: &std::sync::RwLock<std::sync::Arc<Snapshot>>,
    revision: i64,
) -> diesel::QueryResult<std::sync::Arc<Snapshot>> {
    let snap = slot.read().map(|s| s.clone()).unwrap_or_default();
    if snap.revision == revision {
        return Ok(snap);
    }
    let fresh = snap.advance(conn, revision)?;
    // Every test run checks the incremental snapshot against a whole load of the register.
    #[cfg(debug_assertions)]
    assert_eq!(
        fresh.fingerprint(),
        Snapshot::load(conn, revision)?.fingerprint(),
        "the advanced snapshot differs from the register"
    );
    let fresh = std::sync::Arc::new(fresh);
    super::snapshot::install(slot, fresh.clone());
    Ok(fresh)
}

/// One decision inside a batch transaction that holds the head lock: checks idempotency,
/// decides, and records the decision and its ledger entry. The outer error is a storage failure
/// (the whole batch is rolled back); the inner one is this request's own (422), which writes
/// nothing.
pub fn decide_one(
    conn: &mut DbConn,
    batch: &mut Batch,
    snap: &Snapshot,
    actor: &serde_json::Value,
    request: engine::Request,
    idempotency: Option<Idempotency>,
) -> Result<Result<Made, DomainError>, DomainError> {
    if let Some(idem) = &idempotency {
        let earlier = batch.rows.iter().find(|r| {
            r.service == request.service && r.idempotency_key.as_deref() == Some(idem.key.as_str())
        });
        let existing: Option<Row> = match earlier {
            Some(row) => Some(row.clone()),
            None => store::by_idempotency_key(conn, &request.service, &idem.key)?,
        };
        if let Some(row) = existing {
            return Ok(
                if row.request_hash.as_deref() == Some(idem.request_hash.as_str()) {
                    Ok(Made::Replayed {
                        id: row.id,
                        body: row.body,
                    })
                } else {
                    Err(DomainError::field(
                        "Idempotency-Key",
                        "was already used with a different request body",
                    ))
                },
            );
        }
    }
    if let Err(e) = check_keys(snap, &request) {
        return Ok(Err(e));
    }
    let now = crate::time::now();
    let rules = RuleSet::current();
    // The counters this share may read, read under the head lock (once per batch each).
    load_counters(conn, &mut batch.tally, snap, &request, now, rules)?;
    let verdict = engine::decide_with(snap, rules, &batch.tally, batch.enforcement, &request, now);
    if verdict.outcome == engine::Outcome::Approved {
        for (counter, n) in &verdict.plan.increments {
            batch.tally.add(counter.clone(), *n);
        }
    }
    let explained = |mut reasons: Vec<engine::Reason>| {
        super::explain::explain(snap, &request, now, &mut reasons);
        reasons
    };
    let mut decision = Decision {
        id: uuid::Uuid::now_v7().to_string(),
        outcome: verdict.outcome,
        reasons: explained(verdict.reasons(&request, rules)),
        advisories: explained(verdict.advisories(&request, rules)),
        // A denial relies on no grant: listing the ones that matched would read as approval.
        grants: if verdict.outcome == engine::Outcome::Approved {
            verdict.grants(&request)
        } else {
            Vec::new()
        },
        regimes: verdict.regimes(&request),
        volumes: if verdict.outcome == engine::Outcome::Approved {
            verdict.plan.counted.clone()
        } else {
            Vec::new()
        },
        exporter: verdict.exporter.map(str::to_owned),
        rules_version: rules.version().to_owned(),
        subject_region: request.subject_region(),
        service: request.service,
        party_id: request.party_id,
        purpose: request.purpose,
        categories: request.categories,
        destination_country: request.destination_country,
        subject_country: request.subject_country,
        data_origin_country: request.data_origin_country,
        subject_count: request.subject_count,
        device_count: request.device_count,
        exemption: request.exemption,
        subjects_include_minors_under_14: request.subjects_include_minors_under_14,
        us_government_related: request.us_government_related,
        decided_at: crate::time::format(now),
        ledger_seq: 0,
    };
    let change = canonical_change(&decision, snap.revision)?;
    decision.ledger_seq = batch.ledger.append_canonical(
        actor,
        action::DECISION_RECORDED,
        Subject::SharingRequest(&decision.id),
        change,
        false,
    );
    let body = serde_json::to_string(&decision)?;
    let row = Row {
        id: decision.id.clone(),
        service: decision.service.clone(),
        party_id: decision.party_id.clone(),
        outcome: decision.outcome,
        decided_at: decision.decided_at.clone(),
        ledger_seq: decision.ledger_seq,
        body: body.clone(),
        idempotency_key: idempotency.as_ref().map(|i| i.key.clone()),
        request_hash: idempotency.map(|i| i.request_hash),
    };
    batch.rows.push(row);
    batch.categories.extend(super::exposure::rows_of(&decision));
    Ok(Ok(Made::New {
        decision: Box::new(decision),
        body,
    }))
}

/// The writes of one batch of decisions, made in a few statements when it is complete.
pub struct Batch {
    pub ledger: crate::ledger::Appender,
    rows: Vec<Row>,
    /// What the approvals sent, per category (for incidents' exposure).
    categories: Vec<super::exposure::CategoryRow>,
    /// The counters read for the batch and what its approvals added.
    tally: Tally,
    enforcement: Enforcement,
}

impl Batch {
    /// Locks the ledger head for the batch: every batch on every node is serialised by it, so
    /// the counters read after it are never stale.
    pub fn begin(conn: &mut DbConn, enforcement: Enforcement) -> Result<Batch, DomainError> {
        Ok(Batch {
            ledger: crate::ledger::Appender::lock(conn)?,
            rows: Vec::new(),
            categories: Vec::new(),
            tally: Tally::new(RuleSet::current().published.us_dsp.window_days),
            enforcement,
        })
    }

    /// Writes every decision, ledger entry and counter increment of the batch.
    pub fn finish(mut self, conn: &mut DbConn) -> diesel::QueryResult<()> {
        self.ledger.finish(conn)?;
        store::insert_all(conn, &self.rows)?;
        super::exposure::insert_all(conn, &self.categories)?;
        volumes::store::write(conn, &self.tally.take_pending())
    }
}

/// Reads into `tally` the volume counters `request` may be judged on at `now`.
pub fn load_counters(
    conn: &mut DbConn,
    tally: &mut Tally,
    snap: &Snapshot,
    request: &engine::Request,
    now: chrono::DateTime<chrono::Utc>,
    rules: &RuleSet,
) -> diesel::QueryResult<()> {
    let Some((exporter, _)) = engine::exporter_of(snap, request) else {
        return Ok(());
    };
    if request.data_origin_country == "CN" {
        let year = crate::transfers::law::pipl_year(now, rules).to_string();
        volumes::store::load(conn, tally, Regime::Pipl, exporter, "", &year)?;
    }
    if request.subject_country == "US" {
        let day = now.date_naive().to_string();
        volumes::store::load(
            conn,
            tally,
            Regime::UsDsp,
            exporter,
            &request.party_id,
            &day,
        )?;
    }
    Ok(())
}

/// The purpose and categories of `snap`'s taxonomy that a request names and it does not know,
/// each with its near miss.
pub fn unknown_keys<'k>(
    snap: &Snapshot,
    purpose: Option<&str>,
    categories: impl IntoIterator<Item = &'k str>,
) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = categories
        .into_iter()
        .enumerate()
        .filter(|(_, c)| !snap.categories.contains_key(*c))
        .map(|(i, c)| {
            let known = snap.categories.keys().map(String::as_str);
            FieldError::new(format!("categories[{i}]"), hints::key_message(c, known))
        })
        .collect();
    if let Some(p) = purpose
        && !snap.purposes.contains_key(p)
    {
        let known = snap.purposes.keys().map(String::as_str);
        errors.push(FieldError::new("purpose", hints::key_message(p, known)));
    }
    errors
}

/// Unknown keys are malformed input (422), not a decision.
pub fn check_keys(snap: &Snapshot, request: &engine::Request) -> Result<(), DomainError> {
    let categories = request.categories.iter().map(String::as_str);
    let mut errors = unknown_keys(snap, Some(&request.purpose), categories);
    if let Some(e) = &request.exporter
        && !snap.entities.contains_key(e)
    {
        errors.push(FieldError::new("exporter", "is not a registered entity"));
    }
    crate::error::collect(errors)
}
