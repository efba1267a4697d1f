//! Filing a legal request, moving it through its lifecycle, and confirming an override. Each is
//! one ledger entry with the request's whole state, written in the same transaction.

use super::store::{self, Row};
use super::{
    AuthorityKind, ChapterVGround, Facts, Instrument, LegalRequest, LegalStatus, Override, judge,
};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::decision::engine::Outcome;
use crate::disclosures::{Filed, Idempotency};
use crate::error::{DomainError, Expected, FieldError};
use crate::ledger::{Subject, action};
use crate::taxonomy::{Part, store::check_known};
use crate::transfers::rules::RuleSet;

/// A legal request as validated at the edge (instants normalised, countries parsed).
#[derive(Debug, Clone)]
pub struct Draft {
    pub authority_name: String,
    pub authority_country: String,
    pub authority_kind: AuthorityKind,
    pub instrument: Instrument,
    pub reference: String,
    pub received_at: String,
    pub exporter: Option<String>,
    pub data_stored_in: Vec<String>,
    pub subject_country: Option<String>,
    pub data_origin_country: Option<String>,
    pub categories: Vec<String>,
    pub subject_count: Option<i64>,
    pub approval_reference: Option<String>,
    pub agreement_reference: Option<String>,
    pub chapter_v_ground: Option<ChapterVGround>,
}

/// A requested move, with the fields the target status needs.
#[derive(Debug, Clone)]
pub struct Move {
    pub status: LegalStatus,
    pub disclosed_at: Option<String>,
    pub disclosed_categories: Option<Vec<String>>,
    pub disclosed_subject_count: Option<i64>,
    pub notified_at: Option<String>,
    pub delayed_until: Option<String>,
    pub order_reference: Option<String>,
    pub override_reason: Option<String>,
    /// New evidence for `contested → approved`.
    pub approval_reference: Option<String>,
    pub agreement_reference: Option<String>,
    pub chapter_v_ground: Option<ChapterVGround>,
}

fn record(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    r: &LegalRequest,
) -> Result<i64, DomainError> {
    let change = serde_json::to_value(r)?;
    crate::ledger::append(
        conn,
        &actor.actor(),
        action,
        Subject::LegalRequest(&r.id),
        &change,
        false,
    )
}

/// Records a judgement: the entry carries its own seq as `decision_ledger_seq` (the head is
/// locked by the write, so the next seq is known before the entry is written).
fn record_decided(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    r: &mut LegalRequest,
) -> Result<(), DomainError> {
    let (seq, _, _) = crate::ledger::store::head(conn)?;
    r.decision_ledger_seq = seq + 1;
    if record(conn, actor, action, r)? != r.decision_ledger_seq {
        return Err(DomainError::Internal(
            "the legal request's ledger entry was not the next one".into(),
        ));
    }
    Ok(())
}

/// The gates over `r`'s current evidence.
fn verdict(conn: &mut DbConn, r: &LegalRequest) -> Result<Vec<super::LegalReason>, DomainError> {
    let exporter_country = match &r.exporter {
        Some(key) => Some(
            crate::registry::entities::find(conn, key)?
                .ok_or_else(|| DomainError::field("exporter", "is not a registered entity"))?
                .country
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    Ok(judge(
        &Facts {
            authority_country: &r.authority_country,
            authority_kind: r.authority_kind,
            instrument: r.instrument,
            data_stored_in: &r.data_stored_in,
            exporter_country: exporter_country.as_deref(),
            data_origin_country: r.data_origin_country.as_deref(),
            approval_reference: r.approval_reference.as_deref(),
            agreement_reference: r.agreement_reference.as_deref(),
            chapter_v_ground: r.chapter_v_ground,
        },
        RuleSet::current(),
    ))
}

/// Files a legal request: judged by the gates and recorded before the answer. With an
/// idempotency key, the same key and body from the same principal answer the first filing.
pub fn file(
    conn: &mut DbConn,
    actor: &Principal,
    idempotency: Option<Idempotency>,
    draft: impl FnOnce() -> Result<Draft, DomainError>,
) -> Result<Filed<LegalRequest>, DomainError> {
    if let Some(idem) = &idempotency
        && let Some(row) = store::by_idempotency_key(conn, &actor.sub, &idem.key)?
    {
        return replay(row, idem);
    }
    let d = draft()?;
    check_known(conn, Part::Categories, "categories", &d.categories)?;
    let now = crate::time::format(crate::time::now());
    let mut r = LegalRequest {
        id: uuid::Uuid::now_v7().to_string(),
        outcome: Outcome::Approved,
        status: LegalStatus::Approved,
        reasons: Vec::new(),
        authority_name: d.authority_name,
        authority_country: d.authority_country,
        authority_kind: d.authority_kind,
        instrument: d.instrument,
        reference: d.reference,
        received_at: d.received_at,
        exporter: d.exporter,
        data_stored_in: d.data_stored_in,
        subject_country: d.subject_country,
        data_origin_country: d.data_origin_country,
        categories: d.categories,
        subject_count: d.subject_count,
        approval_reference: d.approval_reference,
        agreement_reference: d.agreement_reference,
        chapter_v_ground: d.chapter_v_ground,
        disclosed_at: None,
        disclosed_categories: Vec::new(),
        disclosed_subject_count: None,
        notified_at: None,
        delayed_until: None,
        order_reference: None,
        override_: None,
        closed_at: None,
        decided_at: now.clone(),
        decision_ledger_seq: 0,
        created_by: actor.sub.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        as_of_ledger_seq: None,
    };
    r.reasons = verdict(conn, &r)?;
    if !r.reasons.is_empty() {
        r.outcome = Outcome::Denied;
        r.status = LegalStatus::Denied;
    }
    record_decided(conn, actor, action::LEGAL_REQUEST_DECIDED, &mut r)?;
    store::insert(conn, &store::of(&r, idempotency.as_ref())?)?;
    Ok(Filed::New(r))
}

fn replay(row: Row, idem: &Idempotency) -> Result<Filed<LegalRequest>, DomainError> {
    if row.request_hash.as_deref() == Some(idem.request_hash.as_str()) {
        Ok(Filed::Replayed(row.request()?))
    } else {
        Err(DomainError::field(
            "Idempotency-Key",
            "was already used with a different request body",
        ))
    }
}

fn required<T>(value: Option<T>, field: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    if value.is_none() {
        errors.push(FieldError::new(field, "is required for this status"));
    }
    value
}

fn illegal(from: LegalStatus, to: LegalStatus) -> DomainError {
    DomainError::Conflict(format!("A legal request cannot go from {from} to {to}."))
}

/// Moves a legal request at the version `expected`; `change` is judged once it is found.
pub fn change_status(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    change: impl FnOnce() -> Result<Move, DomainError>,
) -> Result<LegalRequest, DomainError> {
    use LegalStatus::*;
    let row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let m = change()?;
    let mut r = row.request()?;
    let (from, to) = (r.status, m.status);
    if r.override_
        .as_ref()
        .is_some_and(|o| o.confirmed_by.is_none())
    {
        return Err(DomainError::Conflict(
            "The override awaits a second principal's confirmation (POST /v1/legal-requests/{id}/confirm-override).".into(),
        ));
    }
    let mut errors = Vec::new();
    let now = crate::time::format(crate::time::now());
    match (from, to) {
        (Approved, Disclosed) | (Denied, Disclosed) => {
            if from == Denied && m.override_reason.is_none() {
                return Err(DomainError::Conflict(
                    "The request was denied: disclosing anyway needs override_reason and a second principal's confirmation.".into(),
                ));
            }
            let at = required(m.disclosed_at, "disclosed_at", &mut errors);
            let cats = required(m.disclosed_categories, "disclosed_categories", &mut errors);
            if let Some(c) = &cats {
                if c.is_empty() {
                    errors.push(FieldError::new(
                        "disclosed_categories",
                        "must list at least one category",
                    ));
                }
                for (i, k) in c.iter().enumerate() {
                    if !r.categories.contains(k) {
                        errors.push(FieldError::new(
                            format!("disclosed_categories[{i}]"),
                            "is not one of the request's categories",
                        ));
                    }
                }
            }
            if let (Some(at), true) = (&at, errors.is_empty())
                && at < &r.received_at
            {
                errors.push(FieldError::new(
                    "disclosed_at",
                    "must not be before received_at",
                ));
            }
            crate::error::collect(std::mem::take(&mut errors))?;
            r.disclosed_at = at;
            r.disclosed_categories = cats.unwrap_or_default();
            r.disclosed_subject_count = m.disclosed_subject_count;
            if let Some(reason) = m.override_reason.filter(|_| from == Denied) {
                r.override_ = Some(Override {
                    reason,
                    by: actor.sub.clone(),
                    at: now.clone(),
                    confirmed_by: None,
                    confirmed_at: None,
                });
            }
        }
        (Disclosed | NotificationDelayed, SubjectsNotified) => {
            r.notified_at = required(m.notified_at, "notified_at", &mut errors);
        }
        (Disclosed, NotificationDelayed) => {
            r.delayed_until = required(m.delayed_until, "delayed_until", &mut errors);
            r.order_reference = required(m.order_reference, "order_reference", &mut errors);
        }
        (Denied, Contested) => {}
        (Contested, Approved) => {
            for (field, value) in [
                (&mut r.approval_reference, m.approval_reference),
                (&mut r.agreement_reference, m.agreement_reference),
            ] {
                if value.is_some() {
                    *field = value;
                }
            }
            if m.chapter_v_ground.is_some() {
                r.chapter_v_ground = m.chapter_v_ground;
            }
            let reasons = verdict(conn, &r)?;
            if !reasons.is_empty() {
                let codes: Vec<String> = reasons
                    .iter()
                    .map(|x| format!("{} ({})", x.code, x.rule))
                    .collect();
                return Err(DomainError::Conflict(format!(
                    "The evidence still fails: {}.",
                    codes.join(", ")
                )));
            }
            r.outcome = Outcome::Approved;
            r.reasons = reasons;
            r.decided_at = now.clone();
        }
        (Approved | Denied | Contested, Closed) => r.closed_at = Some(now.clone()),
        _ => return Err(illegal(from, to)),
    }
    crate::error::collect(errors)?;
    r.status = to;
    r.version += 1;
    r.updated_at = now;
    if to == Approved {
        record_decided(conn, actor, action::LEGAL_REQUEST_STATUS_CHANGED, &mut r)?;
    } else {
        record(conn, actor, action::LEGAL_REQUEST_STATUS_CHANGED, &r)?;
    }
    store::save(conn, &r)?;
    Ok(r)
}

/// A second principal confirms counsel's override of a denial.
pub fn confirm_override(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
) -> Result<LegalRequest, DomainError> {
    let row = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let mut r = row.request()?;
    let now = crate::time::format(crate::time::now());
    let o = r
        .override_
        .as_mut()
        .ok_or_else(|| DomainError::Conflict("The request has no override to confirm.".into()))?;
    if o.confirmed_by.is_some() {
        return Err(DomainError::Conflict(
            "The override was confirmed already.".into(),
        ));
    }
    if o.by == actor.sub {
        return Err(DomainError::NotPermitted(
            "Four eyes: the principal who overrode the denial cannot confirm it.".into(),
        ));
    }
    o.confirmed_by = Some(actor.sub.clone());
    o.confirmed_at = Some(now.clone());
    r.version += 1;
    r.updated_at = now;
    record(conn, actor, action::LEGAL_REQUEST_OVERRIDE_CONFIRMED, &r)?;
    store::save(conn, &r)?;
    Ok(r)
}
