//! The command line's arguments: every flag with its environment twin and its default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use vendor_registry::config::{Config, defaults};

#[derive(Parser)]
#[command(
    name = "vendor-registry",
    version,
    about = "The register of trusted third parties and affiliates"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone)]
pub struct Storage {
    /// Directory for the SQLite database and generated keys.
    #[arg(long, env = "VENDOR_REGISTRY_DATA_DIR", default_value = defaults::DATA_DIR)]
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of SQLite.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Database connections in the pool.
    #[arg(long, env = "VENDOR_REGISTRY_POOL_SIZE", default_value_t = defaults::POOL_SIZE)]
    pub pool_size: u32,
    /// The Ed25519 key that signs checkpoints: a path to a PKCS#8 PEM file, or the PEM itself
    /// (generated into the data directory if unset). Never echoed.
    #[arg(long, env = "VENDOR_REGISTRY_LEDGER_KEY", hide_env_values = true)]
    pub ledger_key: Option<String>,
    /// The log's name in its C2SP checkpoints (e.g. `registry.example.com/ledger`); default
    /// `vendor-registry/<key id>`.
    #[arg(long, env = "VENDOR_REGISTRY_LOG_ORIGIN")]
    pub log_origin: Option<String>,
    /// Older checkpoint public keys still trusted, comma-separated (base64).
    #[arg(
        long,
        env = "VENDOR_REGISTRY_LEDGER_TRUSTED_KEYS",
        value_delimiter = ','
    )]
    pub ledger_trusted_keys: Vec<String>,
    /// Sign a checkpoint every N new entries…
    #[arg(long, env = "VENDOR_REGISTRY_CHECKPOINT_EVERY", default_value_t = defaults::CHECKPOINT_EVERY_ENTRIES)]
    pub checkpoint_every: i64,
    /// …or every this many seconds, if the ledger grew.
    #[arg(long, env = "VENDOR_REGISTRY_CHECKPOINT_SECONDS", default_value_t = defaults::CHECKPOINT_EVERY_SECS)]
    pub checkpoint_seconds: u64,
    /// The most decisions one ledger commit carries (1 commits each decision on its own).
    #[arg(long, env = "VENDOR_REGISTRY_DECISION_BATCH", default_value_t = defaults::DECISION_BATCH)]
    pub decision_batch: usize,
    /// With SQLite: not ready below this much free disk space in the data directory (bytes).
    #[arg(long, env = "VENDOR_REGISTRY_MIN_FREE_BYTES", default_value_t = defaults::MIN_FREE_BYTES)]
    pub min_free_bytes: u64,
    /// `enforce` (transfer checks decide) or `report` (they are recorded as `advisories`, and
    /// outcomes follow the scope checks only), to see what enforcement would change first.
    #[arg(long, env = "VENDOR_REGISTRY_TRANSFER_ENFORCEMENT", default_value = "enforce",
        value_parser = ["enforce", "report"])]
    pub transfer_enforcement: String,
    /// Hours after becoming aware of an incident within which PIPL Art. 57's notices fall due
    /// (0: at once), 0–720.
    #[arg(long, env = "VENDOR_REGISTRY_PIPL_NOTICE_HOURS", default_value_t = defaults::PIPL_NOTICE_HOURS,
        value_parser = clap::value_parser!(i64).range(0..=720))]
    pub pipl_notice_hours: i64,
    /// Accept `http://` webhook endpoints on loopback addresses (local testing only; otherwise
    /// endpoints must be https).
    #[arg(long, env = "VENDOR_REGISTRY_WEBHOOK_ALLOW_HTTP_LOOPBACK")]
    pub webhook_allow_http_loopback: bool,
    /// How often the webhook outbox is read and due deliveries sent (milliseconds).
    #[arg(long, env = "VENDOR_REGISTRY_WEBHOOK_POLL_MS", default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub webhook_poll_ms: u64,
    /// The first webhook retry's delay (milliseconds); each next one doubles, up to an hour.
    #[arg(long, env = "VENDOR_REGISTRY_WEBHOOK_RETRY_BASE_MS", default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_retry_base_ms: u64,
    /// Attempts before a webhook delivery is given up.
    #[arg(long, env = "VENDOR_REGISTRY_WEBHOOK_MAX_ATTEMPTS", default_value_t = 12,
        value_parser = clap::value_parser!(i64).range(1..=100))]
    pub webhook_max_attempts: i64,
    /// How many days ahead reminders (expiring grants, reviews due, …) become webhook events.
    #[arg(long, env = "VENDOR_REGISTRY_WEBHOOK_REMINDER_DAYS", default_value_t = 30,
        value_parser = clap::value_parser!(i64).range(1..=365))]
    pub webhook_reminder_days: i64,
    /// Collect webhook events but send nothing until restarted without it.
    #[arg(long, env = "VENDOR_REGISTRY_WEBHOOKS_PAUSED")]
    pub webhooks_paused: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "VENDOR_REGISTRY_BIND", default_value = defaults::BIND)]
        bind: String,
        #[command(flatten)]
        storage: Storage,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[command(flatten)]
        storage: Storage,
    },
    /// Print a signed token for local use.
    Token {
        /// Role(s): admin, procurement, service, auditor, legal (repeat or separate with commas).
        #[arg(long, required = true, value_delimiter = ',')]
        role: Vec<String>,
        /// The principal id; for a service, its service key.
        #[arg(long)]
        sub: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
        /// Directory holding the generated token secret.
        #[arg(long, env = "VENDOR_REGISTRY_DATA_DIR", default_value = defaults::DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Import reference data into the register.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Work with the ledger offline.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Exit 0 when the service at ADDR:PORT answers /readyz with 200 (for container health checks).
    Healthcheck {
        #[arg(long, env = "VENDOR_REGISTRY_BIND", default_value = defaults::BIND)]
        bind: String,
    },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import an IAB TCF Global Vendor List (vendor-list.json, GVL specification v2 or v3).
    Gvl {
        /// The vendor-list.json file.
        file: PathBuf,
        /// Who the ledger records as the actor.
        #[arg(long, default_value = "cli")]
        actor: String,
        /// Import the list even if it is older than the last one imported.
        #[arg(long)]
        force: bool,
        /// Report what the import would do, vendor by vendor; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        storage: Storage,
    },
    /// Import parties and grants from a CSV (or, for a .json file, JSON) spreadsheet: the
    /// columns of /v1/exports/register.csv (README "Importing the register").
    Register {
        /// The .csv or .json file.
        file: PathBuf,
        /// Who the ledger records as the actor (a procurement principal).
        #[arg(long, default_value = "cli")]
        actor: String,
        /// Judge every row and report what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the rows that pass and report the others (default: any row rejected and
        /// nothing is written).
        #[arg(long)]
        row_by_row: bool,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify an exported ledger (GET /v1/audit/export) with the published key and checkpoints.
    Verify {
        /// The export, JSON Lines.
        #[arg(long)]
        file: PathBuf,
        /// The public key: the JSON of GET /v1/audit/public-key, a PEM file, or a base64 key.
        #[arg(long)]
        public_key: PathBuf,
        /// Signed checkpoints (GET /v1/audit/checkpoint or /v1/audit/checkpoints); repeatable.
        #[arg(long)]
        checkpoints: Vec<PathBuf>,
        /// A witness you trust, as its verifier key (`name+hash+base64`, what
        /// `audit witness --show-key` prints); repeatable. A cosignature by one of them that
        /// does not verify fails the check.
        #[arg(long)]
        witness_key: Vec<String>,
        /// How many of those witnesses must have cosigned a checkpoint for it to count as
        /// witnessed; the check fails when no checkpoint is (default 1 with --witness-key).
        #[arg(long)]
        min_witnesses: Option<usize>,
        /// The log's origin in its checkpoint notes; by default read from the public key JSON.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Witness the log: check the latest checkpoint against the last one this witness cosigned
    /// (a consistency proof verified against its own saved root), then cosign it and send the
    /// cosignature (POST /v1/audit/cosignatures). Run it on your own machine, with your own
    /// state directory; it refuses, and says why, on a fork or a rollback.
    Witness {
        /// The service, e.g. https://registry.example.com
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An auditor token.
        #[arg(long, env = "VENDOR_REGISTRY_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The log's note verifier key (`note_verifier` of GET /v1/audit/public-key), obtained
        /// out of band and kept: the witness never takes the key from the server it checks.
        #[arg(long)]
        log_key: Option<String>,
        /// Where the witness keeps its key (witness-key.pem) and the last checkpoint it cosigned
        /// (state.json).
        #[arg(long)]
        state_dir: PathBuf,
        /// The witness's name in its cosignatures, e.g. `auditor.example.com/w1`.
        #[arg(long)]
        name: Option<String>,
        /// Print this witness's verifier key and exit.
        #[arg(long)]
        show_key: bool,
    },
}

pub fn config(storage: Storage, bind: String) -> Config {
    Config {
        bind,
        data_dir: storage.data_dir,
        database_url: storage.database_url,
        jwt: Config::jwt_from_env(),
        pool_size: storage.pool_size.max(1),
        ledger_key: storage
            .ledger_key
            .as_deref()
            .map(vendor_registry::keyfile::KeySource::from_setting),
        log_origin: storage.log_origin,
        ledger_trusted_keys: storage.ledger_trusted_keys,
        checkpoint_every_entries: storage.checkpoint_every.max(1),
        checkpoint_every_secs: storage.checkpoint_seconds.max(1),
        min_free_bytes: storage.min_free_bytes,
        decision_batch: storage.decision_batch.max(1),
        transfer_enforcement: vendor_registry::transfers::Enforcement::parse(
            &storage.transfer_enforcement,
        )
        .unwrap_or(vendor_registry::transfers::Enforcement::Enforce),
        pipl_notice_hours: storage.pipl_notice_hours,
        webhooks: vendor_registry::webhooks::Settings {
            allow_http_loopback: storage.webhook_allow_http_loopback,
            poll: std::time::Duration::from_millis(storage.webhook_poll_ms),
            retry_base: std::time::Duration::from_millis(storage.webhook_retry_base_ms),
            max_attempts: storage.webhook_max_attempts,
            reminder_days: storage.webhook_reminder_days,
            paused: storage.webhooks_paused,
            ..vendor_registry::webhooks::Settings::default()
        },
        ..Config::local(PathBuf::new())
    }
}
