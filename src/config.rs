//! Typed configuration, from flags and their environment twins (see the README's table).

use std::path::PathBuf;

use crate::auth::JwtSettings;
use crate::db::Target;

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
    pub ledger_key: Option<PathBuf>,
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
}

impl Config {
    /// The defaults of `serve` with no configuration.
    pub fn local(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            bind: "127.0.0.1:8080".into(),
            data_dir: data_dir.into(),
            database_url: None,
            jwt: JwtSettings::default(),
            pool_size: 8,
            ledger_key: None,
            ledger_trusted_keys: Vec::new(),
            checkpoint_every_entries: 1000,
            checkpoint_every_secs: 60,
            min_free_bytes: 16 * 1024 * 1024,
            decision_batch: 256,
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
            secret: var("VENDOR_REGISTRY_JWT_SECRET"),
            public_key: var("VENDOR_REGISTRY_JWT_PUBLIC_KEY").map(PathBuf::from),
            private_key: var("VENDOR_REGISTRY_JWT_PRIVATE_KEY").map(PathBuf::from),
            issuer: var("VENDOR_REGISTRY_JWT_ISSUER"),
            audience: var("VENDOR_REGISTRY_JWT_AUDIENCE"),
        }
    }
}
