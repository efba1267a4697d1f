//! Registering and changing services.

use super::{Changes, Draft, Service, ServiceRow, store};
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected};
use crate::ledger::{Subject, action};
use crate::registry::checks::check_unique;
use crate::taxonomy::{Part, store::check_known};

fn record(
    conn: &mut DbConn,
    actor: &Principal,
    action: &str,
    row: &ServiceRow,
) -> Result<(), DomainError> {
    let change = serde_json::to_value(Service::from(row.clone()))?;
    crate::ledger::append(
        conn,
        &actor.actor(),
        action,
        Subject::Service(row.key.as_str()),
        &change,
        true,
    )?;
    Ok(())
}

/// Registers a service; its purposes must be keys of the taxonomy.
pub fn create(conn: &mut DbConn, actor: &Principal, new: Draft) -> Result<ServiceRow, DomainError> {
    check_unique("purposes", &new.purposes)?;
    check_known(conn, Part::Purposes, "purposes", &new.purposes)?;
    check_unique("entities", &new.entities)?;
    crate::registry::entities::check_known(conn, "entities", &new.entities)?;
    if store::find(conn, new.key.as_str())?.is_some() {
        return Err(DomainError::Conflict(
            "A service with that key exists already.".into(),
        ));
    }
    let now = crate::time::format(crate::time::now());
    let row = ServiceRow {
        key: new.key,
        name: new.name,
        description: new.description,
        purposes: new.purposes.into(),
        active: new.active,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        entities: new.entities.into(),
    };
    store::insert(conn, &row)?;
    record(conn, actor, action::SERVICE_CREATED, &row)?;
    Ok(row)
}

/// Changes a service at the version `expected`; `changes` is judged once the service is found
/// and the version matched.
pub fn update(
    conn: &mut DbConn,
    actor: &Principal,
    key: &str,
    expected: &Expected,
    changes: impl FnOnce() -> Result<Changes, DomainError>,
) -> Result<ServiceRow, DomainError> {
    let mut row = store::find(conn, key)?.ok_or(DomainError::NotFound)?;
    expected.require(row.version)?;
    let changes = changes()?;
    if let Some(purposes) = changes.purposes {
        check_unique("purposes", &purposes)?;
        check_known(conn, Part::Purposes, "purposes", &purposes)?;
        row.purposes = purposes.into();
    }
    if let Some(entities) = changes.entities {
        check_unique("entities", &entities)?;
        crate::registry::entities::check_known(conn, "entities", &entities)?;
        row.entities = entities.into();
    }
    if let Some(name) = changes.name {
        row.name = name;
    }
    if let Some(description) = changes.description {
        row.description = description;
    }
    if let Some(active) = changes.active {
        row.active = active;
    }
    row.version += 1;
    row.updated_at = crate::time::format(crate::time::now());
    store::save(conn, &row)?;
    record(conn, actor, action::SERVICE_UPDATED, &row)?;
    Ok(row)
}
