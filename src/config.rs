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
    /// The console's sign-in: its session key and, when configured, the OpenID Connect provider.
    pub console: ConsoleSettings,
    /// SQLite: checkpoint the WAL on a thread of its own rather than inside commits (`serve`,
    /// which runs that thread; off for every other command and for tests run in process).
    pub background_wal_checkpoints: bool,
}

/// The console's sign-in (`VENDOR_REGISTRY_CONSOLE_*`, `VENDOR_REGISTRY_OIDC_*`).
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// Signs the sessions of people signed in with the provider; every node of a deployment
    /// needs the same one. Generated into `data_dir/console-session-key` when unset.
    pub session_key: Option<secrecy::SecretString>,
    /// How long such a session lasts, in hours (default 8).
    pub session_hours: u64,
    pub oidc: Option<crate::oidc::Settings>,
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
            console: ConsoleSettings {
                session_hours: 8,
                ..ConsoleSettings::default()
            },
            background_wal_checkpoints: false,
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

    /// Reads the console's settings: `VENDOR_REGISTRY_CONSOLE_SESSION_KEY`,
    /// `VENDOR_REGISTRY_CONSOLE_SESSION_HOURS`, and the provider's `VENDOR_REGISTRY_OIDC_ISSUER`,
    /// `_CLIENT_ID`, `_CLIENT_SECRET`, `_REDIRECT_URL`, `_ROLES_CLAIM` (default `roles`),
    /// `_SCOPES` (default `openid profile`) and `_NAME` (the button's words). Without an issuer,
    /// client id and redirect URL there is no provider sign-in.
    pub fn console_from_env() -> Result<ConsoleSettings, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let hours = match var("VENDOR_REGISTRY_CONSOLE_SESSION_HOURS") {
            None => 8,
            Some(h) => h
                .parse::<u64>()
                .ok()
                .filter(|h| (1..=168).contains(h))
                .ok_or("VENDOR_REGISTRY_CONSOLE_SESSION_HOURS must be 1-168")?,
        };
        let oidc = match (
            var("VENDOR_REGISTRY_OIDC_ISSUER"),
            var("VENDOR_REGISTRY_OIDC_CLIENT_ID"),
            var("VENDOR_REGISTRY_OIDC_REDIRECT_URL"),
        ) {
            (Some(issuer), Some(client_id), Some(redirect_url)) => Some(crate::oidc::Settings {
                issuer,
                client_id,
                client_secret: var("VENDOR_REGISTRY_OIDC_CLIENT_SECRET")
                    .map(secrecy::SecretString::from),
                redirect_url,
                roles_claim: var("VENDOR_REGISTRY_OIDC_ROLES_CLAIM")
                    .unwrap_or_else(|| "roles".into()),
                scopes: var("VENDOR_REGISTRY_OIDC_SCOPES")
                    .unwrap_or_else(|| "openid profile".into()),
                name: var("VENDOR_REGISTRY_OIDC_NAME")
                    .unwrap_or_else(|| "your company's sign-in".into()),
            }),
            (None, None, None) => None,
            _ => {
                return Err(
                    "set VENDOR_REGISTRY_OIDC_ISSUER, VENDOR_REGISTRY_OIDC_CLIENT_ID and \
                     VENDOR_REGISTRY_OIDC_REDIRECT_URL together (or none of them)"
                        .into(),
                );
            }
        };
        Ok(ConsoleSettings {
            session_key: var("VENDOR_REGISTRY_CONSOLE_SESSION_KEY")
                .map(secrecy::SecretString::from),
            session_hours: hours,
            oidc,
        })
    }
}
