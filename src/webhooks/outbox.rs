//! The outbox: register changes read from the ledger after the cursor, and reminders coming
//! due, turned into events with one delivery per subscribed webhook — in one transaction with
//! the cursor's move, so an event is made once, whichever node makes it.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::EventType;
use super::store::{self, DeliveryRow, EventRow, WebhookRow};
use crate::auth::Role;
use crate::db::DbConn;
use crate::error::DomainError;
use crate::ledger::action;
use crate::registry::reminders::{self, ReminderKind};

/// Ledger entries read per transaction.
const PAGE: i64 = 500;

/// The ledger actions that become events.
const ACTIONS: &[&str] = &[
    action::GRANT_CREATED,
    action::GRANT_APPROVED,
    action::GRANT_REVOKED,
    action::GRANT_UPDATED,
    action::PARTY_CREATED,
    action::PARTY_UPDATED,
    action::PARTY_STATUS_CHANGED,
    action::PARTY_SUB_PROCESSORS_CHANGED,
    action::AGREEMENT_CREATED,
    action::AGREEMENT_UPDATED,
    action::AGREEMENT_WITHDRAWN,
];

/// The event a ledger entry tells, if any.
fn event_of(entry_action: &str, change: &Value) -> Option<EventType> {
    Some(match entry_action {
        action::GRANT_CREATED => EventType::GrantCreated,
        action::GRANT_APPROVED => EventType::GrantApproved,
        action::GRANT_REVOKED => EventType::GrantRevoked,
        action::GRANT_UPDATED => EventType::GrantUpdated,
        action::PARTY_CREATED => EventType::PartyCreated,
        action::PARTY_UPDATED => EventType::PartyUpdated,
        action::PARTY_SUB_PROCESSORS_CHANGED => EventType::PartySubProcessorsChanged,
        action::PARTY_STATUS_CHANGED => match change["status"].as_str()? {
            "trusted" => EventType::PartyTrusted,
            "suspended" => EventType::PartySuspended,
            "pending_review" => EventType::PartyPendingReview,
            "offboarded" => EventType::PartyOffboarded,
            _ => return None,
        },
        action::AGREEMENT_CREATED => EventType::AgreementCreated,
        action::AGREEMENT_UPDATED => EventType::AgreementUpdated,
        action::AGREEMENT_WITHDRAWN => EventType::AgreementWithdrawn,
        _ => return None,
    })
}

fn event_of_reminder(kind: ReminderKind) -> EventType {
    match kind {
        ReminderKind::ReviewDue => EventType::ReviewDue,
        ReminderKind::GrantExpiring => EventType::GrantExpiring,
        ReminderKind::AgreementExpiring => EventType::AgreementExpiring,
        ReminderKind::DpfLapsing => EventType::DpfLapsing,
        ReminderKind::ObjectionDeadline => EventType::SubProcessorObjectionDeadline,
    }
}

/// Whether `hook` receives an event of `t` about `service` that happened at `at`.
fn subscribed(hook: &WebhookRow, t: EventType, service: Option<&str>, at: &str) -> bool {
    let role = Role::parse(&hook.owner_role);
    hook.event_types.contains(&t)
        && hook.created_at.as_str() <= at
        && role.is_some_and(|r| t.readable_by(r))
        && (role != Some(Role::Service) || service == Some(hook.owner.as_str()))
}

/// Stores one event and its deliveries, due now.
fn enqueue(
    conn: &mut DbConn,
    hooks: &[WebhookRow],
    event: EventRow,
    now: &str,
) -> Result<(), DomainError> {
    let deliveries: Vec<DeliveryRow> = hooks
        .iter()
        .filter(|h| {
            subscribed(
                h,
                event.event_type,
                event.service.as_deref(),
                &event.occurred_at,
            )
        })
        .map(|h| DeliveryRow {
            event_id: event.id.clone(),
            webhook_id: h.id.clone(),
            attempts: 0,
            next_attempt_at: Some(now.to_owned()),
            delivered_at: None,
            failed_at: None,
            last_status: None,
            last_error: None,
            updated_at: now.to_owned(),
        })
        .collect();
    store::insert_event(conn, &event)?;
    store::insert_deliveries(conn, &deliveries)?;
    Ok(())
}

fn body(id: &str, t: EventType, at: &str, seq: Option<i64>, subject: &str, data: Value) -> String {
    json!({"id": id, "type": t, "occurred_at": at, "ledger_seq": seq, "subject": subject, "data": data})
        .to_string()
}

/// Turns what the ledger holds after the cursor (one page) into events; with `reminders`, also
/// what falls due within `reminder_days`. Answers whether more of the ledger waits. Runs in the
/// caller's write transaction; an error (or another node's move of the cursor) undoes it all.
pub fn collect(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    reminder_days: i64,
    reminders: bool,
) -> Result<bool, DomainError> {
    let Some(from) = store::cursor(conn)? else {
        return Ok(false);
    };
    let hooks = store::active(conn)?;
    let stamp = crate::time::format(now);
    let (head, _, _) = crate::ledger::head(conn)?;
    let upto = head.min(from + PAGE);
    if upto > from {
        let entries = if hooks.is_empty() {
            Vec::new()
        } else {
            crate::ledger::store::of_actions_between(conn, ACTIONS, from, upto, PAGE)?
        };
        for e in entries {
            let change: Value = serde_json::from_str(&e.change)?;
            let Some(t) = event_of(&e.action, &change) else {
                continue;
            };
            let id = uuid::Uuid::now_v7().to_string();
            let service = change["service"].as_str().map(str::to_owned);
            let payload = body(&id, t, &e.at, Some(e.seq), &e.subject, change);
            let event = EventRow {
                id,
                source: format!("ledger:{}", e.seq),
                event_type: t,
                service,
                occurred_at: e.at,
                payload,
            };
            enqueue(conn, &hooks, event, &stamp)?;
        }
        if !store::move_cursor(conn, from, upto)? {
            return Err(DomainError::Conflict("another node read the outbox".into()));
        }
    }
    let wanted = |t: EventType| hooks.iter().any(|h| h.event_types.contains(&t));
    if reminders
        && ReminderKind::ALL
            .iter()
            .any(|k| wanted(event_of_reminder(*k)))
    {
        for r in reminders::due(conn, now, reminder_days)? {
            let t = event_of_reminder(r.kind);
            let source = format!(
                "reminder:{}:{}:{}:{}",
                r.kind,
                r.party_id,
                r.object_id.as_deref().unwrap_or(""),
                r.due
            );
            if !wanted(t) || store::event_exists(conn, &source)? {
                continue;
            }
            let id = uuid::Uuid::now_v7().to_string();
            let subject = match (&r.object_id, r.kind) {
                (Some(o), ReminderKind::GrantExpiring) => format!("grant:{o}"),
                (Some(o), ReminderKind::AgreementExpiring) => format!("agreement:{o}"),
                _ => format!("party:{}", r.party_id),
            };
            let service = r.service.clone();
            let payload = body(&id, t, &stamp, None, &subject, serde_json::to_value(&r)?);
            let event = EventRow {
                id,
                source,
                event_type: t,
                service,
                occurred_at: stamp.clone(),
                payload,
            };
            enqueue(conn, &hooks, event, &stamp)?;
        }
    }
    Ok(upto < head)
}
