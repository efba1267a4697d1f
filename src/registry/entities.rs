//! The company's own legal entities: the exporters of the data it shares. A service lists the
//! entities it operates for; a share's exporter is one of them (docs/TRANSFERS.md).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected, FieldError};
use crate::ledger::{Subject, action};
use crate::schema::entities;
use crate::types::{CountryCode, ServiceKey};

/// A stored entity.
#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = entities)]
pub struct EntityRow {
    pub key: ServiceKey,
    pub legal_name: String,
    pub country: CountryCode,
    pub ciio: bool,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// One of the company's legal entities, which exports the data its services share.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"key": "acme-cn", "legal_name": "Acme (Shanghai) Co., Ltd.", "country": "CN",
    "ciio": false, "active": true, "created_at": "2026-12-02T10:00:00.000000Z",
    "updated_at": "2026-12-02T10:00:00.000000Z", "version": 1}))]
pub struct Entity {
    /// Lowercase letters, digits, `-` and `_`.
    pub key: String,
    /// The entity's registered legal name.
    pub legal_name: String,
    /// Where it is established (ISO 3166-1 alpha-2).
    pub country: String,
    /// A PRC critical-information-infrastructure operator (only when `country` is CN): every
    /// PRC export needs a CAC security assessment.
    pub ciio: bool,
    /// An inactive entity exports nothing: a share naming it has no resolved exporter.
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

impl From<EntityRow> for Entity {
    fn from(r: EntityRow) -> Self {
        Entity {
            key: r.key.into_string(),
            legal_name: r.legal_name,
            country: r.country.to_string(),
            ciio: r.ciio,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
            as_of_ledger_seq: None,
        }
    }
}

/// A new entity, as validated at the edge.
#[derive(Debug, Clone)]
pub struct Draft {
    pub key: ServiceKey,
    pub legal_name: String,
    pub country: CountryCode,
    pub ciio: bool,
}

/// Changes to an entity; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub legal_name: Option<String>,
    pub country: Option<CountryCode>,
    pub ciio: Option<bool>,
    pub active: Option<bool>,
}

fn check_ciio(row: &EntityRow) -> Result<(), DomainError> {
    if row.ciio && row.country.as_str() != "CN" {
        return Err(DomainError::field(
            "ciio",
            "can be true only for an entity whose country is CN",
        ));
    }
    Ok(())
}

fn record(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    row: &EntityRow,
) -> Result<(), DomainError> {
    let change = serde_json::to_value(Entity::from(row.clone()))?;
    crate::ledger::append(
        conn,
        &actor.actor(),
        action,
        Subject::Entity(row.key.as_str()),
        &change,
        true,
    )?;
    Ok(())
}

/// Registers an entity.
pub fn create(conn: &mut DbConn, actor: &Principal, new: Draft) -> Result<EntityRow, DomainError> {
    let now = crate::time::format(crate::time::now());
    let row = EntityRow {
        key: new.key,
        legal_name: new.legal_name,
        country: new.country,
        ciio: new.ciio,
        active: true,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    check_ciio(&row)?;
    if find(conn, row.key.as_str())?.is_some() {
        return Err(DomainError::Conflict(
            "An entity with that key exists already.".into(),
        ));
    }
    diesel::insert_into(entities::table)
        .values(&row)
        .execute(conn)?;
    record(conn, actor, action::ENTITY_CREATED, &row)?;
    Ok(row)
}

/// Changes an entity at the version `expected`.
pub fn update(
    conn: &mut DbConn,
    actor: &Principal,
    key: &str,
    expected: &Expected,
    changes: impl FnOnce() -> Result<Changes, DomainError>,
) -> Result<EntityRow, DomainError> {
    let mut row = find(conn, key)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let c = changes()?;
    if let Some(v) = c.legal_name {
        row.legal_name = v;
    }
    if let Some(v) = c.country {
        row.country = v;
    }
    if let Some(v) = c.ciio {
        row.ciio = v;
    }
    if let Some(v) = c.active {
        row.active = v;
    }
    check_ciio(&row)?;
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    diesel::update(entities::table.find(&row.key))
        .set(&row)
        .execute(conn)?;
    record(conn, actor, action::ENTITY_UPDATED, &row)?;
    Ok(row)
}

pub fn find(conn: &mut DbConn, key: &str) -> QueryResult<Option<EntityRow>> {
    entities::table
        .find(key)
        .select(EntityRow::as_select())
        .first(conn)
        .optional()
}

/// Every entity (for the decision snapshot), by key.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<EntityRow>> {
    entities::table
        .order(entities::key.asc())
        .select(EntityRow::as_select())
        .load(conn)
}

/// Entities with a key after `after`, by key, at most `limit`.
pub fn page(conn: &mut DbConn, after: Option<&str>, limit: i64) -> QueryResult<Vec<EntityRow>> {
    let mut q = entities::table.into_boxed();
    if let Some(a) = after {
        q = q.filter(entities::key.gt(a.to_owned()));
    }
    q.order(entities::key.asc())
        .limit(limit)
        .select(EntityRow::as_select())
        .load(conn)
}

/// A 422 naming each key of `keys` that is not a registered entity.
pub fn check_known(conn: &mut DbConn, field: &str, keys: &[String]) -> Result<(), DomainError> {
    if keys.is_empty() {
        return Ok(());
    }
    let known: Vec<ServiceKey> = entities::table
        .filter(entities::key.eq_any(keys))
        .select(entities::key)
        .load(conn)?;
    let errors = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !known.iter().any(|n| n.as_str() == k.as_str()))
        .map(|(i, _)| FieldError::new(format!("{field}[{i}]"), "is not a registered entity"))
        .collect();
    crate::error::collect(errors)
}
