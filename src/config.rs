//! Typed configuration, from flags and their environment twins (see the README's table).

use std::path::PathBuf;

use crate::auth::JwtSettings;
use crate::db::Target;

/// The defaults, written once: `serve` with no configuration, and the command line's flags.
pub mod defaults {
    pub const BIND: &str = "127.0.0.1:8080";
    pub const DATA_DIR: &str = "./data";
    pub const POOL_SIZE: u32 = 8;
    pub const CHECKPOINT_EVERY_ENTRIES: i64 = 1000;
    pub const CHECKPOINT_EVERY_SECS: u64 = 60;
    pub const DECISION_BATCH: usize = 256;
    pub const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;
    /// PIPL Art. 57: notify at once.
    pub const PIPL_NOTICE_HOURS: i64 = 0;
}

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ADDR:PORT` to listen on.
    pub bind: String,
    /// Where the SQLite database and generated keys live.
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; `None` means SQLite in `data_dir`.
    pub database_url: Option<String>,
    pub jwt: JwtSettings,
    /// Database connections per node.
    pub pool_size: u32,
    /// A PKCS#8 PEM Ed25519 key that signs checkpoints; generated into `data_dir` when unset.
    pub ledger_key: Option<crate::keyfile::KeySource>,
    /// The log's name in its C2SP checkpoints; `vendor-registry/<key_id>` when unset.
    pub log_origin: Option<String>,
    /// Older checkpoint public keys (base64 or PEM) still trusted after a key rotation.
    pub ledger_trusted_keys: Vec<String>,
    /// Sign a checkpoint every this many new entries…
    pub checkpoint_every_entries: i64,
    /// …or after this many seconds, whichever comes first.
    pub checkpoint_every_secs: u64,
    /// The most decisions one ledger commit carries (1: every decision commits on its own).
    pub decision_batch: usize,
    /// With SQLite, report not ready when the data directory's disk has less free space.
    pub min_free_bytes: u64,
    /// `enforce`: transfer checks decide; `report`: they are recorded as advisories only.
    pub transfer_enforcement: crate::transfers::Enforcement,
    /// Hours after becoming aware of an incident within which PIPL Art. 57's notices fall due.
    pub pipl_notice_hours: i64,
    /// How webhooks are delivered.
    pub webhooks: crate::webhooks::Settings,
}

impl Config {
    /// The defaults of `serve` with no configuration.
    pub fn local(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            bind: defaults::BIND.into(),
            data_dir: data_dir.into(),
            database_url: None,
            jwt: JwtSettings::default(),
            pool_size: defaults::POOL_SIZE,
            ledger_key: None,
            log_origin: None,
            ledger_trusted_keys: Vec::new(),
            checkpoint_every_entries: defaults::CHECKPOINT_EVERY_ENTRIES,
            checkpoint_every_secs: defaults::CHECKPOINT_EVERY_SECS,
            min_free_bytes: defaults::MIN_FREE_BYTES,
            decision_batch: defaults::DECISION_BATCH,
            transfer_enforcement: crate::transfers::Enforcement::Enforce,
            pipl_notice_hours: defaults::PIPL_NOTICE_HOURS,
            webhooks: crate::webhooks::Settings::default(),
        }
    }

    pub fn target(&self) -> Target {
        match &self.database_url {
            Some(url) if !url.is_empty() => Target::Postgres(url.clone()),
            _ => Target::Sqlite(self.data_dir.join("registry.db")),
        }
    }

    /// Reads the `VENDOR_REGISTRY_JWT_*` variables (secrets are never taken from flags, so they
    /// do not show in process listings).
    pub fn jwt_from_env() -> JwtSettings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        JwtSettings {
            secret: var("VENDOR_REGISTRY_JWT_SECRET").map(secrecy::SecretString::from),
            public_key: var("VENDOR_REGISTRY_JWT_PUBLIC_KEY")
                .map(|v| crate::keyfile::KeySource::from_setting(&v)),
            private_key: var("VENDOR_REGISTRY_JWT_PRIVATE_KEY")
                .map(|v| crate::keyfile::KeySource::from_setting(&v)),
            issuer: var("VENDOR_REGISTRY_JWT_ISSUER"),
            audience: var("VENDOR_REGISTRY_JWT_AUDIENCE"),
        }
    }
}
