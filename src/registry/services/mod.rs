//! Internal services: in whose name data is shared, and for which purposes.

pub mod commands;
pub mod store;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::services;
use crate::types::{List, ServiceKey};

/// A stored service.
#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub key: ServiceKey,
    pub name: String,
    pub description: String,
    pub purposes: List<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub entities: List<String>,
}

/// An internal service in whose name data is shared. A service token's `sub` is its key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"key": "newsletter", "name": "Newsletter", "description": "Monthly news by email.",
    "purposes": ["marketing.communications.email"], "active": true, "created_at": "2026-11-29T10:00:00.000000Z",
    "updated_at": "2026-11-29T10:00:00.000000Z", "version": 1}))]
pub struct Service {
    /// Lowercase letters, digits, `-` and `_`; the `sub` of the service's tokens.
    pub key: String,
    /// A human name.
    pub name: String,
    /// What the service does, for the people who review its grants.
    pub description: String,
    /// The purposes it is declared for; each covers its descendants.
    pub purposes: Vec<String>,
    /// An inactive service gets every sharing request denied (`service_inactive`).
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// The company's entities it operates for: a share's exporter is one of them.
    #[serde(default)]
    pub entities: Vec<String>,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

impl From<ServiceRow> for Service {
    fn from(r: ServiceRow) -> Self {
        Service {
            key: r.key.into_string(),
            name: r.name,
            description: r.description,
            purposes: r.purposes.0,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
            entities: r.entities.0,
            as_of_ledger_seq: None,
        }
    }
}

/// A new service, as validated at the edge.
#[derive(Debug, Clone)]
pub struct Draft {
    pub key: ServiceKey,
    pub name: String,
    pub description: String,
    pub purposes: Vec<String>,
    pub active: bool,
    pub entities: Vec<String>,
}

/// Changes to a service; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub description: Option<String>,
    pub purposes: Option<Vec<String>>,
    pub active: Option<bool>,
    pub entities: Option<Vec<String>>,
}
