//! Opening an incident (suspending its party in the same transaction), amending it, moving it
//! `open → contained → closed`, and recording what was done about each duty. Each is one ledger
//! entry with the incident's whole state; only the suspension is a register change.

use std::collections::HashMap;

use super::duties::owed;
use super::{
    Changes, Draft, Duty, DutyChange, DutyStatus, Incident, IncidentStatus, Suspension, exposure,
    store,
};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::disclosures::{Filed, Idempotency};
use crate::error::{DomainError, Expected, FieldError};
use crate::ledger::{Subject, action};
use crate::taxonomy::{Part, store::check_known};
use crate::transfers::rules::RuleSet;

/// What the commands are configured with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// PIPL Art. 57's deadline after becoming aware, in hours (0: at once).
    pub pipl_notice_hours: i64,
}

fn record(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    i: &Incident,
) -> Result<(), DomainError> {
    let mut state = i.clone();
    for d in &mut state.duties {
        d.overdue = false;
    }
    state.overdue_duties = 0;
    let change = serde_json::to_value(&state)?;
    crate::ledger::append(
        conn,
        &actor.actor(),
        action,
        Subject::Incident(&i.id),
        &change,
        false,
    )?;
    Ok(())
}

/// The instants' order: from before until, exposure from before until, none in the future.
fn check_times(i: &Incident, now: &str) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    let soon = crate::time::parse(now)
        .map(|t| crate::time::format(t + chrono::Duration::minutes(5)))
        .unwrap_or_default();
    for (field, value) in [
        ("became_aware_at", Some(&i.became_aware_at)),
        ("detected_at", i.detected_at.as_ref()),
        ("occurred_from", i.occurred_from.as_ref()),
        ("occurred_until", i.occurred_until.as_ref()),
    ] {
        if value.is_some_and(|v| v.as_str() > soon.as_str()) {
            errors.push(FieldError::new(field, "must not be in the future"));
        }
    }
    if let (Some(f), Some(u)) = (&i.occurred_from, &i.occurred_until)
        && u < f
    {
        errors.push(FieldError::new(
            "occurred_until",
            "must not be before occurred_from",
        ));
    }
    if let (Some(f), Some(u)) = (&i.exposure_from, &i.occurred_until)
        && u <= f
    {
        errors.push(FieldError::new(
            "exposure_from",
            "must be before occurred_until",
        ));
    }
    crate::error::collect(errors)
}

/// Adds the duties the current exposure owes that the incident does not hold yet.
fn add_owed_duties(
    conn: &mut DbConn,
    i: &mut Incident,
    settings: Settings,
    now: &str,
) -> Result<(), DomainError> {
    let exposure = exposure::of(conn, i, now)?;
    let mut countries = HashMap::new();
    for e in crate::registry::entities::all(conn)? {
        countries.insert(e.key.as_str().to_owned(), e.country.as_str().to_owned());
    }
    let rules = RuleSet::current();
    for o in owed(
        &exposure.groups,
        i.severity,
        &i.became_aware_at,
        &countries,
        settings.pipl_notice_hours,
        rules,
    ) {
        let held = i.duties.iter().any(|d| {
            d.regime == o.regime && d.exporter == o.exporter && d.addressee == o.addressee
        });
        if !held {
            i.duties.push(Duty {
                id: uuid::Uuid::now_v7().to_string(),
                regime: o.regime,
                rule: o.rule.into(),
                exporter: o.exporter,
                addressee: o.addressee,
                due_at: o.due_at,
                status: DutyStatus::Pending,
                done_at: None,
                reference: None,
                reason: None,
                created_at: now.to_owned(),
                overdue: false,
            });
        }
    }
    Ok(())
}

/// Opens an incident at a party and, unless told not to, suspends the party in the same
/// transaction. With an idempotency key, the same key and body answer the first opening.
pub fn open(
    conn: &mut DbConn,
    actor: &Principal,
    settings: Settings,
    idempotency: Option<Idempotency>,
    draft: impl FnOnce() -> Result<Draft, DomainError>,
) -> Result<Filed<Incident>, DomainError> {
    if let Some(idem) = &idempotency
        && let Some(row) = store::by_idempotency_key(conn, &actor.sub, &idem.key)?
    {
        if row.request_hash.as_deref() != Some(idem.request_hash.as_str()) {
            return Err(DomainError::field(
                "Idempotency-Key",
                "was already used with a different request body",
            ));
        }
        let found = store::find(conn, &row.id)?.ok_or(DomainError::NotFound)?;
        return Ok(Filed::Replayed(found));
    }
    let d = draft()?;
    if crate::registry::parties::store::find(conn, &d.party_id)?.is_none() {
        return Err(DomainError::field("party_id", "is not a registered party"));
    }
    check_known(conn, Part::Categories, "categories", &d.categories)?;
    if !d.suspend && d.no_suspend_reason.is_none() {
        return Err(DomainError::field(
            "no_suspend_reason",
            "is required when suspend is false",
        ));
    }
    let now = crate::time::format(crate::time::now());
    let id = uuid::Uuid::now_v7().to_string();
    let mut i = Incident {
        id: id.clone(),
        party_id: d.party_id,
        title: d.title,
        became_aware_at: d.became_aware_at,
        detected_at: d.detected_at,
        occurred_from: d.occurred_from,
        occurred_until: d.occurred_until,
        severity: d.severity,
        categories: d.categories,
        description: d.description,
        exposure_from: d.exposure_from,
        status: IncidentStatus::Open,
        contained_at: None,
        closed_at: None,
        suspension: Suspension {
            done: false,
            reason: String::new(),
        },
        duties: Vec::new(),
        overdue_duties: 0,
        created_by: actor.sub.clone(),
        created_at: now.clone(),
        updated_at: now.clone(),
        version: 1,
        as_of_ledger_seq: None,
    };
    check_times(&i, &now)?;
    let (done, reason) = match (d.suspend, d.no_suspend_reason) {
        (true, _) => crate::registry::lifecycle::suspend_for_incident(
            conn,
            actor,
            &i.party_id,
            format!("incident {id}"),
        )?,
        (false, reason) => (false, reason.unwrap_or_default()),
    };
    i.suspension = Suspension { done, reason };
    add_owed_duties(conn, &mut i, settings, &now)?;
    record(conn, actor, action::INCIDENT_OPENED, &i)?;
    store::insert(conn, &i, idempotency.as_ref())?;
    Ok(Filed::New(i))
}

fn load(conn: &mut DbConn, id: &str, expected: Option<&Expected>) -> Result<Incident, DomainError> {
    let i = store::find(conn, id)?.ok_or(DomainError::NotFound)?;
    if let Some(e) = expected {
        e.require(i.version)?;
    }
    Ok(i)
}

fn save(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    mut i: Incident,
    now: String,
) -> Result<Incident, DomainError> {
    i.version += 1;
    i.updated_at = now;
    record(conn, actor, action, &i)?;
    store::save(conn, &i)?;
    Ok(i)
}

/// Amends an incident at the version `expected`; duties the wider exposure owes are added.
pub fn update(
    conn: &mut DbConn,
    actor: &Principal,
    settings: Settings,
    id: &str,
    expected: &Expected,
    changes: impl FnOnce() -> Result<Changes, DomainError>,
) -> Result<Incident, DomainError> {
    let mut i = load(conn, id, Some(expected))?;
    let c = changes()?;
    if i.status == IncidentStatus::Closed {
        return Err(DomainError::Conflict(
            "A closed incident cannot change.".into(),
        ));
    }
    for (field, value) in [
        (&mut i.occurred_from, c.occurred_from),
        (&mut i.occurred_until, c.occurred_until),
        (&mut i.exposure_from, c.exposure_from),
        (&mut i.description, c.description),
    ] {
        if let Some(v) = value {
            *field = v;
        }
    }
    if let Some(s) = c.severity {
        i.severity = s;
    }
    let now = crate::time::format(crate::time::now());
    check_times(&i, &now)?;
    add_owed_duties(conn, &mut i, settings, &now)?;
    save(conn, actor, action::INCIDENT_UPDATED, i, now)
}

/// Moves an incident `open → contained → closed` at the version `expected`.
pub fn change_status(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    expected: &Expected,
    to: impl FnOnce() -> Result<IncidentStatus, DomainError>,
) -> Result<Incident, DomainError> {
    use IncidentStatus::*;
    let mut i = load(conn, id, Some(expected))?;
    let to = to()?;
    let now = crate::time::format(crate::time::now());
    match (i.status, to) {
        (Open, Contained) => i.contained_at = Some(now.clone()),
        (Contained, Closed) => i.closed_at = Some(now.clone()),
        (from, to) => {
            return Err(DomainError::Conflict(format!(
                "An incident cannot go from {from} to {to}{}.",
                if from == Closed {
                    ": a closed incident never reopens"
                } else {
                    ""
                }
            )));
        }
    }
    i.status = to;
    save(conn, actor, action::INCIDENT_STATUS_CHANGED, i, now)
}

/// Records what was done about one duty: `done` (when, and the reference of the notice) or
/// `not_required` (why). A duty is settled once.
pub fn update_duty(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    duty_id: &str,
    change: impl FnOnce() -> Result<DutyChange, DomainError>,
) -> Result<Incident, DomainError> {
    let mut i = load(conn, id, None)?;
    let Some(pos) = i.duties.iter().position(|d| d.id == duty_id) else {
        return Err(DomainError::NotFound);
    };
    let c = change()?;
    let now = crate::time::format(crate::time::now());
    let duty = &mut i.duties[pos];
    if duty.status != DutyStatus::Pending {
        return Err(DomainError::Conflict(format!(
            "The duty is {} already.",
            duty.status
        )));
    }
    match c.status {
        DutyStatus::Done => {
            let Some(at) = c.at else {
                return Err(DomainError::field("at", "is required when status is done"));
            };
            if at > now {
                return Err(DomainError::field("at", "must not be in the future"));
            }
            duty.done_at = Some(at);
            duty.reference = c.reference;
        }
        DutyStatus::NotRequired => {
            let Some(reason) = c.reason else {
                return Err(DomainError::field(
                    "reason",
                    "is required when status is not_required",
                ));
            };
            duty.done_at = Some(c.at.unwrap_or_else(|| now.clone()));
            duty.reason = Some(reason);
        }
        DutyStatus::Pending => {
            return Err(DomainError::field("status", "must be done or not_required"));
        }
    }
    duty.status = c.status;
    save(conn, actor, action::INCIDENT_DUTY_UPDATED, i, now)
}
