//! The webhook tables: endpoints, events, deliveries and the outbox cursor.

use diesel::prelude::*;

use super::{Delivery, EventType, Webhook};
use crate::db::DbConn;
use crate::schema::{webhook_cursor, webhook_deliveries, webhook_events, webhooks};
use crate::types::List;

/// The cursor of the ledger outbox.
const LEDGER: &str = "ledger";

#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub event_types: List<EventType>,
    pub secret: String,
    pub owner: String,
    pub owner_role: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook {
            id: r.id,
            url: r.url,
            event_types: r.event_types.0,
            owner: r.owner,
            owner_role: r.owner_role,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
            secret: None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = webhook_events)]
pub struct EventRow {
    pub id: String,
    pub source: String,
    pub event_type: EventType,
    pub service: Option<String>,
    pub occurred_at: String,
    pub payload: String,
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = webhook_deliveries, treat_none_as_null = true)]
pub struct DeliveryRow {
    pub event_id: String,
    pub webhook_id: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    pub failed_at: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub updated_at: String,
}

pub fn insert(conn: &mut DbConn, row: &WebhookRow) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn save(conn: &mut DbConn, row: &WebhookRow) -> QueryResult<()> {
    diesel::update(webhooks::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

/// Every webhook (`owner`: only that principal's), oldest first.
pub fn list(conn: &mut DbConn, owner: Option<&str>) -> QueryResult<Vec<WebhookRow>> {
    let mut q = webhooks::table.into_boxed();
    if let Some(o) = owner {
        q = q.filter(webhooks::owner.eq(o.to_owned()));
    }
    q.order(webhooks::id.asc())
        .select(WebhookRow::as_select())
        .load(conn)
}

pub fn active(conn: &mut DbConn) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .filter(webhooks::active.eq(true))
        .order(webhooks::id.asc())
        .select(WebhookRow::as_select())
        .load(conn)
}

/// Where the ledger outbox was read up to; `None` until a first webhook was registered.
pub fn cursor(conn: &mut DbConn) -> QueryResult<Option<i64>> {
    webhook_cursor::table
        .find(LEDGER)
        .select(webhook_cursor::seq)
        .first(conn)
        .optional()
}

/// Starts the cursor at `seq` unless it exists.
pub fn start_cursor(conn: &mut DbConn, seq: i64) -> QueryResult<()> {
    if cursor(conn)?.is_none() {
        diesel::insert_into(webhook_cursor::table)
            .values((webhook_cursor::name.eq(LEDGER), webhook_cursor::seq.eq(seq)))
            .execute(conn)?;
    }
    Ok(())
}

/// Moves the cursor from `from` to `to`; false when another node moved it first.
pub fn move_cursor(conn: &mut DbConn, from: i64, to: i64) -> QueryResult<bool> {
    diesel::update(
        webhook_cursor::table
            .filter(webhook_cursor::name.eq(LEDGER))
            .filter(webhook_cursor::seq.eq(from)),
    )
    .set(webhook_cursor::seq.eq(to))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn event_exists(conn: &mut DbConn, source: &str) -> QueryResult<bool> {
    webhook_events::table
        .filter(webhook_events::source.eq(source))
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

pub fn insert_event(conn: &mut DbConn, row: &EventRow) -> QueryResult<()> {
    diesel::insert_into(webhook_events::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_deliveries(conn: &mut DbConn, rows: &[DeliveryRow]) -> QueryResult<()> {
    crate::db::insert_in_chunks!(conn, webhook_deliveries::table, rows);
    Ok(())
}

/// Deliveries due at `now` (a stored instant), soonest first, at most `limit`.
pub fn due(conn: &mut DbConn, now: &str, limit: i64) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::next_attempt_at.le(now.to_owned()))
        .order(webhook_deliveries::next_attempt_at.asc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// Takes a due delivery for one attempt: moves its `next_attempt_at` from `was` to `lease`.
/// False when another node took it first.
pub fn claim(conn: &mut DbConn, row: &DeliveryRow, was: &str, lease: &str) -> QueryResult<bool> {
    diesel::update(
        webhook_deliveries::table
            .find((&row.event_id, &row.webhook_id))
            .filter(webhook_deliveries::next_attempt_at.eq(was.to_owned())),
    )
    .set(webhook_deliveries::next_attempt_at.eq(lease.to_owned()))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn save_delivery(conn: &mut DbConn, row: &DeliveryRow) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find((&row.event_id, &row.webhook_id)))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

pub fn event(conn: &mut DbConn, id: &str) -> QueryResult<Option<EventRow>> {
    webhook_events::table
        .find(id)
        .select(EventRow::as_select())
        .first(conn)
        .optional()
}

/// A webhook's deliveries, newest event first, after the cursor `before` (an event id).
pub fn deliveries(
    conn: &mut DbConn,
    webhook_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut q = webhook_deliveries::table
        .inner_join(webhook_events::table.on(webhook_events::id.eq(webhook_deliveries::event_id)))
        .filter(webhook_deliveries::webhook_id.eq(webhook_id.to_owned()))
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(webhook_deliveries::event_id.lt(b.to_owned()));
    }
    let rows: Vec<(DeliveryRow, EventType, String)> = q
        .order(webhook_deliveries::event_id.desc())
        .limit(limit)
        .select((
            DeliveryRow::as_select(),
            webhook_events::event_type,
            webhook_events::occurred_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(d, event_type, occurred_at)| Delivery {
            event_id: d.event_id,
            event_type,
            occurred_at,
            attempts: d.attempts,
            delivered_at: d.delivered_at,
            failed_at: d.failed_at,
            next_attempt_at: d.next_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error,
        })
        .collect())
}
