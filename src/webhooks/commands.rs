//! Registering and deleting webhooks; each is recorded in the ledger (never its secret).

use base64::Engine;
use rand::RngCore;

use super::store::{self, WebhookRow};
use super::{EventType, Settings, Webhook};
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::error::{DomainError, FieldError};
use crate::ledger::{Subject, action};

/// A new webhook, as validated at the edge.
#[derive(Debug, Clone)]
pub struct Draft {
    pub url: String,
    pub event_types: Vec<EventType>,
}

/// The role a principal registers with: the widest it holds among those that may.
fn role_of(actor: &Principal) -> Option<Role> {
    [Role::Admin, Role::Procurement, Role::Service]
        .into_iter()
        .find(|r| actor.has(*r))
}

/// True for an https URL with a host, or (when allowed) an http URL on a loopback address.
pub fn acceptable_url(s: &str, settings: &Settings) -> bool {
    let Ok(u) = url::Url::parse(s) else {
        return false;
    };
    let host = u.host_str().unwrap_or("");
    s.len() <= 2000
        && !host.is_empty()
        && u.username().is_empty()
        && u.password().is_none()
        && (u.scheme() == "https"
            || (u.scheme() == "http"
                && settings.allow_http_loopback
                && matches!(host, "127.0.0.1" | "[::1]" | "localhost")))
}

fn record(
    conn: &mut DbConn,
    actor: &Principal,
    what: &str,
    row: &WebhookRow,
) -> Result<(), DomainError> {
    let change = serde_json::to_value(Webhook::from(row.clone()))?;
    crate::ledger::append(
        conn,
        &actor.actor(),
        what,
        Subject::Webhook(&row.id),
        &change,
        false,
    )?;
    Ok(())
}

/// Registers a webhook for `actor`; answers it with its secret, shown this once.
pub fn create(
    conn: &mut DbConn,
    actor: &Principal,
    settings: &Settings,
    d: Draft,
) -> Result<Webhook, DomainError> {
    let role = role_of(actor).ok_or_else(|| {
        DomainError::NotPermitted("Only admin, procurement and services register webhooks.".into())
    })?;
    let mut errors = Vec::new();
    if !acceptable_url(&d.url, settings) {
        errors.push(FieldError::new("url", "must be an absolute https URL"));
    }
    for (i, t) in d.event_types.iter().enumerate() {
        if !t.readable_by(role) {
            errors.push(FieldError::new(
                format!("event_types[{i}]"),
                format!("a {} cannot read {t} events", role.name()),
            ));
        }
    }
    crate::error::collect(errors)?;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    );
    let now = crate::time::format(crate::time::now());
    let mut types = d.event_types;
    types.sort_by_key(|t| t.as_str());
    types.dedup();
    let row = WebhookRow {
        id: uuid::Uuid::now_v7().to_string(),
        url: d.url,
        event_types: types.into(),
        secret: secret.clone(),
        owner: actor.sub.clone(),
        owner_role: role.name().to_owned(),
        active: true,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    // The outbox starts at the ledger's head when the first webhook is registered: what came
    // before was never promised to anyone.
    let (head, _, _) = crate::ledger::head(conn)?;
    store::start_cursor(conn, head)?;
    store::insert(conn, &row)?;
    record(conn, actor, action::WEBHOOK_CREATED, &row)?;
    let mut out = Webhook::from(row);
    out.secret = Some(secret);
    Ok(out)
}

/// Whether `actor` may read or delete webhook `row`: an admin any, others their own.
pub fn visible(actor: &Principal, row: &WebhookRow) -> bool {
    actor.has(Role::Admin) || row.owner == actor.sub
}

pub fn find_visible(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
) -> Result<WebhookRow, DomainError> {
    store::find(conn, id)?
        .filter(|r| visible(actor, r))
        .ok_or(DomainError::NotFound)
}

/// Deletes a webhook: nothing more is sent to it; its deliveries stay readable.
pub fn delete(conn: &mut DbConn, actor: &Principal, id: &str) -> Result<Webhook, DomainError> {
    let mut row = find_visible(conn, actor, id)?;
    if !row.active {
        return Err(DomainError::Conflict(
            "The webhook was deleted already.".into(),
        ));
    }
    row.active = false;
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    store::save(conn, &row)?;
    record(conn, actor, action::WEBHOOK_DELETED, &row)?;
    Ok(Webhook::from(row))
}
