//! Sending what is due: one POST per delivery, signed as Standard Webhooks sign (the recipe in
//! the README), retried with doubling delays until `max_attempts`, each attempt recorded.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Settings;
use super::store::{self, DeliveryRow};
use crate::db::{DbConn, Pool};
use crate::error::DomainError;

/// Deliveries sent per round.
const ROUND: i64 = 20;
/// How long a taken delivery is left to its sender before another may try it.
const LEASE: Duration = Duration::from_secs(120);
/// The longest wait between attempts.
const MAX_DELAY: Duration = Duration::from_secs(3600);

/// `v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the key being the secret's
/// base64 after `whsec_`. `None` when the stored secret is not of that form.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

/// The delay before attempt `attempts + 1`, after `attempts` failed: the base, doubled each
/// time, at most an hour.
pub fn delay(settings: &Settings, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    settings
        .retry_base
        .saturating_mul(1u32 << doublings)
        .min(MAX_DELAY)
}

fn agent(settings: &Settings) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_global(Some(settings.timeout))
        .build()
        .into()
}

/// POSTs one event; `Ok(status)` for any answer, `Err` when none came.
fn post(
    agent: &ureq::Agent,
    url: &str,
    id: &str,
    signature: &str,
    ts: i64,
    body: &str,
) -> Result<u16, String> {
    agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "vendor-registry-webhooks")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .send(body)
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

/// The attempt's outcome, recorded on `row`.
fn settle(
    settings: &Settings,
    row: &mut DeliveryRow,
    outcome: Result<u16, String>,
    now: DateTime<Utc>,
) {
    let stamp = crate::time::format(now);
    row.attempts += 1;
    row.updated_at = stamp.clone();
    let error = match outcome {
        Ok(status) => {
            row.last_status = Some(i64::from(status));
            if (200..300).contains(&status) {
                row.delivered_at = Some(stamp);
                row.next_attempt_at = None;
                return;
            }
            format!("answered {status}")
        }
        Err(e) => {
            row.last_status = None;
            e
        }
    };
    row.last_error = Some(error.chars().take(500).collect());
    if row.attempts >= settings.max_attempts {
        row.failed_at = Some(stamp);
        row.next_attempt_at = None;
    } else {
        let next =
            now + chrono::Duration::from_std(delay(settings, row.attempts)).unwrap_or_default();
        row.next_attempt_at = Some(crate::time::format(next));
    }
}

/// Sends the deliveries due at `now`; answers how many were attempted. Each is taken for one
/// attempt first (so two nodes never send it at once), then sent outside any transaction.
pub fn send_due(
    pool: &Pool,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<usize, DomainError> {
    let mut conn = pool
        .get()
        .map_err(|e| DomainError::Unavailable(e.to_string()))?;
    let stamp = crate::time::format(now);
    let lease = crate::time::format(now + chrono::Duration::from_std(LEASE).unwrap_or_default());
    let due = store::due(&mut conn, &stamp, ROUND)?;
    let agent = agent(settings);
    let mut sent = 0;
    for mut row in due {
        let Some(was) = row.next_attempt_at.clone() else {
            continue;
        };
        let taken = crate::db::write_tx(&mut conn, |c: &mut DbConn| -> Result<_, DomainError> {
            if !store::claim(c, &row, &was, &lease)? {
                return Ok(None);
            }
            let hook = store::find(c, &row.webhook_id)?;
            let event = store::event(c, &row.event_id)?;
            Ok(hook.zip(event))
        })?;
        let Some((hook, event)) = taken else {
            continue;
        };
        let attempt_at = crate::time::now().max(now);
        if hook.active {
            let ts = attempt_at.timestamp();
            let outcome = match signature(&hook.secret, &event.id, ts, &event.payload) {
                Some(sig) => post(&agent, &hook.url, &event.id, &sig, ts, &event.payload),
                None => Err("the webhook's secret is unreadable".to_owned()),
            };
            settle(settings, &mut row, outcome, attempt_at);
        } else {
            // Deleted since: given up without an attempt.
            row.failed_at = Some(crate::time::format(attempt_at));
            row.next_attempt_at = None;
            row.last_error = Some("the webhook was deleted".to_owned());
        }
        crate::db::write_tx(&mut conn, |c: &mut DbConn| store::save_delivery(c, &row))?;
        sent += 1;
    }
    Ok(sent)
}

/// One round: the outbox read (with reminders when asked), then what is due sent.
pub fn round(
    pool: &Pool,
    settings: &Settings,
    now: DateTime<Utc>,
    reminders: bool,
) -> Result<usize, DomainError> {
    let mut conn = pool
        .get()
        .map_err(|e| DomainError::Unavailable(e.to_string()))?;
    // No webhook was ever registered: nothing to read, and no write lock taken for it.
    if store::cursor(&mut conn)?.is_none() {
        return Ok(0);
    }
    let mut reminders = reminders;
    loop {
        let more = crate::db::write_tx(&mut conn, |c| {
            super::outbox::collect(c, now, settings.reminder_days, reminders)
        });
        reminders = false;
        match more {
            Ok(true) => continue,
            Ok(false) | Err(DomainError::Conflict(_)) => break,
            Err(e) => return Err(e),
        }
    }
    drop(conn);
    if settings.paused {
        return Ok(0);
    }
    send_due(pool, settings, now)
}

/// `serve`'s loop: a round every `poll`, reminders once a minute.
pub fn run_periodic(pool: Pool, settings: Settings) {
    let mut last_reminders: Option<std::time::Instant> = None;
    loop {
        let reminders = last_reminders.is_none_or(|t| t.elapsed() >= Duration::from_secs(60));
        match round(&pool, &settings, crate::time::now(), reminders) {
            Ok(_) => {
                if reminders {
                    last_reminders = Some(std::time::Instant::now());
                }
            }
            Err(e) => tracing::warn!(error = %e, "webhook round failed"),
        }
        std::thread::sleep(settings.poll);
    }
}
