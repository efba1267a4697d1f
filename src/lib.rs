//! vendor-registry: the register of trusted third parties and affiliates, and the service that
//! decides whether personal data may be shared with them.
//!
//! The domains — [`taxonomy`], [`registry`], [`decision`], [`disclosures`], [`ledger`],
//! [`imports`], [`webhooks`] — hold the
//! rules, their storage and their commands, and know nothing of HTTP. [`api`] is the one HTTP
//! wing over them: [`api::app`] builds the whole application around an [`api::AppState`], so
//! tests run it in process; `main.rs` adds the command line. Plumbing: [`config`], [`db`],
//! [`auth`], [`oidc`], [`error`], [`types`], [`jcs`], [`time`], [`keyfile`], [`metrics`].

pub mod api;
pub mod auth;
pub mod config;
pub mod db;

pub mod decision;
pub mod disclosures;
pub mod error;
pub mod imports;
pub mod jcs;
pub mod keyfile;
pub mod ledger;
pub mod metrics;
pub mod oidc;
pub mod registry;
/// Diesel table definitions, shared by both backends: `diesel print-schema` output, checked
/// against the migrations of each backend by `.ci/schema.sh`.
pub mod schema;
pub mod taxonomy;
pub mod time;
pub mod transfers;
pub mod types;
pub mod webhooks;

pub use api::{AppState, app, openapi, openapi_json};

/// Opens storage (creating it where it is missing), migrates it and seeds the taxonomy.
pub fn open_storage(config: &config::Config, pool_size: u32) -> Result<db::Pool, String> {
    let pool = db::pool_with(
        &config.target(),
        pool_size,
        !config.background_wal_checkpoints,
    )
    .map_err(|e| format!("cannot open the database: {e}"))?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot open the database: {e}"))?;
    db::migrate(&mut conn).map_err(|e| format!("cannot migrate the database: {e}"))?;
    db::write_tx(&mut conn, taxonomy::seed::ensure)
        .map_err(|e| format!("cannot seed the taxonomy: {e}"))?;
    db::write_tx(&mut conn, taxonomy::seed::ensure_marks)
        .map_err(|e| format!("cannot mark the taxonomy: {e}"))?;
    db::write_tx(&mut conn, |conn| {
        transfers::activation::ensure_recorded(conn, transfers::rules::RuleSet::current())
    })
    .map_err(|e| format!("cannot record the transfer rule set: {e}"))?;
    Ok(pool)
}
