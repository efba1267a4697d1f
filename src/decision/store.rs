//! Stored decisions and the transaction that makes one.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::engine::{self, GrantUse, Outcome, Reason};
use super::snapshot::Snapshot;
use crate::db::DbConn;
use crate::error::{ApiError, FieldError};
use crate::registry::country::Region;
use crate::schema::sharing_requests;

/// A decision: the request, its outcome, one reason per failed check, and the grants that
/// approved each PII category.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c6-2222-7cc0-9d2a-0c1b2a3d4e5f", "outcome": "denied", "service": "newsletter",
    "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "purpose": "marketing.communications.email",
    "categories": ["user.contact.email", "user.contact.phone_number"], "destination_country": "US", "subject_region": "PRC",
    "reasons": [{"code": "category_not_granted", "category": "user.contact.phone_number", "message": "No grant covers this category."}],
    "grants": [{"category": "user.contact.email", "grant_id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f"}],
    "decided_at": "2026-11-29T10:00:00.123456Z", "ledger_seq": 1234}))]
pub struct Decision {
    pub id: String,
    /// `approved` only when no check failed.
    pub outcome: Outcome,
    /// The requesting service (the token's `sub`).
    pub service: String,
    pub party_id: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub destination_country: String,
    pub subject_region: Region,
    /// One entry per failed check; empty when approved.
    pub reasons: Vec<Reason>,
    /// The grant that approved each PII category (non-PII categories need none).
    pub grants: Vec<GrantUse>,
    pub decided_at: String,
    /// The ledger entry that records this decision.
    pub ledger_seq: i64,
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = sharing_requests)]
pub struct Row {
    pub id: String,
    pub service: String,
    pub party_id: String,
    pub outcome: String,
    pub decided_at: String,
    pub ledger_seq: i64,
    pub body: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
}

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
) -> Result<Result<Made, ApiError>, ApiError> {
    if let Some(idem) = &idempotency {
        let earlier = batch.rows.iter().find(|r| {
            r.service == request.service && r.idempotency_key.as_deref() == Some(idem.key.as_str())
        });
        let existing: Option<Row> = match earlier {
            Some(row) => Some(row.clone()),
            None => sharing_requests::table
                .filter(sharing_requests::service.eq(&request.service))
                .filter(sharing_requests::idempotency_key.eq(&idem.key))
                .select(Row::as_select())
                .first(conn)
                .optional()?,
        };
        if let Some(row) = existing {
            return Ok(
                if row.request_hash.as_deref() == Some(idem.request_hash.as_str()) {
                    Ok(Made::Replayed {
                        id: row.id,
                        body: row.body,
                    })
                } else {
                    Err(ApiError::field(
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
    let verdict = engine::decide(snap, &request, now);
    let (reasons, grants) = (verdict.reasons(&request), verdict.grants(&request));
    let mut decision = Decision {
        id: uuid::Uuid::now_v7().to_string(),
        outcome: verdict.outcome,
        service: request.service,
        party_id: request.party_id,
        purpose: request.purpose,
        categories: request.categories,
        destination_country: request.destination_country,
        subject_region: request.subject_region,
        reasons,
        grants,
        decided_at: crate::time::format(now),
        ledger_seq: 0,
    };
    let change = canonical_change(&decision, snap.revision)?;
    let subject = format!("sharing_request:{}", decision.id);
    decision.ledger_seq =
        batch
            .ledger
            .append_canonical(actor, "decision.recorded", &subject, change, false);
    let body = serde_json::to_string(&decision)?;
    let row = Row {
        id: decision.id.clone(),
        service: decision.service.clone(),
        party_id: decision.party_id.clone(),
        outcome: crate::registry::parties::serde_plain(&decision.outcome),
        decided_at: decision.decided_at.clone(),
        ledger_seq: decision.ledger_seq,
        body: body.clone(),
        idempotency_key: idempotency.as_ref().map(|i| i.key.clone()),
        request_hash: idempotency.map(|i| i.request_hash),
    };
    batch.rows.push(row);
    Ok(Ok(Made::New {
        decision: Box::new(decision),
        body,
    }))
}

/// The ledger's record of a decision: the decision without its `ledger_seq`, with the register
/// revision that judged it. Its members are declared in RFC 8785 order (and those of
/// [`Reason`] and [`GrantUse`] are too), and serde_json writes strings and integers as RFC 8785
/// does, so its plain serialisation is already canonical: no JSON tree is built per decision.
#[derive(Serialize)]
struct DecisionChange<'a> {
    categories: &'a [String],
    decided_at: &'a str,
    destination_country: &'a str,
    grants: &'a [GrantUse],
    id: &'a str,
    outcome: Outcome,
    party_id: &'a str,
    purpose: &'a str,
    reasons: &'a [Reason],
    register_revision: i64,
    service: &'a str,
    subject_region: Region,
}

fn canonical_change(decision: &Decision, revision: i64) -> serde_json::Result<String> {
    let change = DecisionChange {
        categories: &decision.categories,
        decided_at: &decision.decided_at,
        destination_country: &decision.destination_country,
        grants: &decision.grants,
        id: &decision.id,
        outcome: decision.outcome,
        party_id: &decision.party_id,
        purpose: &decision.purpose,
        reasons: &decision.reasons,
        register_revision: revision,
        service: &decision.service,
        subject_region: decision.subject_region,
    };
    let text = serde_json::to_string(&change)?;
    debug_assert_eq!(
        text,
        crate::jcs::to_string(&serde_json::to_value(&change)?),
        "the decision change must serialise canonically"
    );
    Ok(text)
}

/// The writes of one batch of decisions, made in a few statements when it is complete.
pub struct Batch {
    pub ledger: crate::ledger::Appender,
    rows: Vec<Row>,
}

impl Batch {
    /// Locks the ledger head for the batch.
    pub fn begin(conn: &mut DbConn) -> diesel::QueryResult<Batch> {
        Ok(Batch {
            ledger: crate::ledger::Appender::lock(conn)?,
            rows: Vec::new(),
        })
    }

    /// Writes every decision and ledger entry of the batch.
    pub fn finish(self, conn: &mut DbConn) -> diesel::QueryResult<()> {
        self.ledger.finish(conn)?;
        crate::db::insert_in_chunks!(conn, sharing_requests::table, self.rows);
        Ok(())
    }
}

/// Unknown keys are malformed input (422), not a decision.
fn check_keys(snap: &Snapshot, request: &engine::Request) -> Result<(), ApiError> {
    let mut errors: Vec<FieldError> = request
        .categories
        .iter()
        .enumerate()
        .filter(|(_, c)| !snap.categories.contains_key(*c))
        .map(|(i, _)| FieldError::new(format!("categories[{i}]"), "is not a key of the taxonomy"))
        .collect();
    if !snap.purposes.contains_key(&request.purpose) {
        errors.push(FieldError::new("purpose", "is not a key of the taxonomy"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Filters of the decision list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub service: Option<String>,
    pub party_id: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Row>> {
    let mut q = sharing_requests::table.into_boxed();
    if let Some(a) = after {
        q = q.filter(sharing_requests::id.gt(a.to_owned()));
    }
    if let Some(s) = &filter.service {
        q = q.filter(sharing_requests::service.eq(s.clone()));
    }
    if let Some(p) = &filter.party_id {
        q = q.filter(sharing_requests::party_id.eq(p.clone()));
    }
    if let Some(o) = &filter.outcome {
        q = q.filter(sharing_requests::outcome.eq(o.clone()));
    }
    if let Some(f) = &filter.from {
        q = q.filter(sharing_requests::decided_at.ge(f.clone()));
    }
    if let Some(t) = &filter.to {
        q = q.filter(sharing_requests::decided_at.lt(t.clone()));
    }
    q.order(sharing_requests::id.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Row>> {
    sharing_requests::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::engine::ReasonCode;

    #[test]
    fn the_decision_change_is_written_in_canonical_form() {
        let reason = |code: ReasonCode, category: Option<&str>| Reason {
            code,
            category: category.map(str::to_owned),
            message: code.message().to_owned(),
        };
        let decision = Decision {
            id: "0193a0c6-2222-7cc0-9d2a-0c1b2a3d4e5f".into(),
            outcome: Outcome::Denied,
            service: "news\"letter\u{1}".into(),
            party_id: "p-ü-\u{1f600}".into(),
            purpose: "marketing.communications.email".into(),
            categories: vec!["user.contact.email".into(), "user.name\n".into()],
            destination_country: "US".into(),
            subject_region: Region::Prc,
            reasons: vec![
                reason(ReasonCode::PartyNotTrusted, None),
                reason(ReasonCode::CategoryNotGranted, Some("user.name\n")),
            ],
            grants: vec![GrantUse {
                category: "user.contact.email".into(),
                grant_id: "g\\1".into(),
            }],
            decided_at: "2026-11-29T10:00:00.123456Z".into(),
            ledger_seq: 7,
        };
        let text = canonical_change(&decision, 41).unwrap();
        let mut expected = serde_json::to_value(&decision).unwrap();
        let obj = expected.as_object_mut().unwrap();
        obj.remove("ledger_seq");
        obj.insert("register_revision".into(), 41.into());
        assert_eq!(text, crate::jcs::to_string(&expected));
    }
}
