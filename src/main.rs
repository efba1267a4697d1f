//! The `vendor-registry` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use vendor_registry::api::{AppState, app, openapi, openapi_json};
use vendor_registry::config::{Config, defaults};
use vendor_registry::error::DomainError;
use vendor_registry::{auth, db};

#[derive(Parser)]
#[command(
    name = "vendor-registry",
    version,
    about = "The register of trusted third parties and affiliates"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Storage {
    /// Directory for the SQLite database and generated keys.
    #[arg(long, env = "VENDOR_REGISTRY_DATA_DIR", default_value = defaults::DATA_DIR)]
    data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of SQLite.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Database connections in the pool.
    #[arg(long, env = "VENDOR_REGISTRY_POOL_SIZE", default_value_t = defaults::POOL_SIZE)]
    pool_size: u32,
    /// PKCS#8 PEM Ed25519 key that signs checkpoints (generated into the data directory if unset).
    #[arg(long, env = "VENDOR_REGISTRY_LEDGER_KEY")]
    ledger_key: Option<PathBuf>,
    /// Older checkpoint public keys still trusted, comma-separated (base64).
    #[arg(
        long,
        env = "VENDOR_REGISTRY_LEDGER_TRUSTED_KEYS",
        value_delimiter = ','
    )]
    ledger_trusted_keys: Vec<String>,
    /// Sign a checkpoint every N new entries…
    #[arg(long, env = "VENDOR_REGISTRY_CHECKPOINT_EVERY", default_value_t = defaults::CHECKPOINT_EVERY_ENTRIES)]
    checkpoint_every: i64,
    /// …or every this many seconds, if the ledger grew.
    #[arg(long, env = "VENDOR_REGISTRY_CHECKPOINT_SECONDS", default_value_t = defaults::CHECKPOINT_EVERY_SECS)]
    checkpoint_seconds: u64,
    /// The most decisions one ledger commit carries (1 commits each decision on its own).
    #[arg(long, env = "VENDOR_REGISTRY_DECISION_BATCH", default_value_t = defaults::DECISION_BATCH)]
    decision_batch: usize,
    /// With SQLite: not ready below this much free disk space in the data directory (bytes).
    #[arg(long, env = "VENDOR_REGISTRY_MIN_FREE_BYTES", default_value_t = defaults::MIN_FREE_BYTES)]
    min_free_bytes: u64,
}

#[derive(Subcommand)]
enum Command {
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
        /// Role(s): admin, procurement, service, auditor (repeat or separate with commas).
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
enum ImportCommand {
    /// Import an IAB TCF Global Vendor List (vendor-list.json, GVL specification v2 or v3).
    Gvl {
        /// The vendor-list.json file.
        file: PathBuf,
        /// Who the ledger records as the actor.
        #[arg(long, default_value = "cli")]
        actor: String,
        #[command(flatten)]
        storage: Storage,
    },
}

fn import_gvl(file: &std::path::Path, actor: &str, config: &Config) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
    let pool = vendor_registry::open_storage(config, 1)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let actor_json = serde_json::json!({"sub": actor});
    let report = db::write_tx(&mut conn, |conn| {
        vendor_registry::imports::import_gvl(
            conn,
            &doc,
            &actor_json,
            actor,
            |list| {
                eprintln!(
                    "importing {} vendors (GVL specification v{}, vendor list version {})",
                    list.vendors.len(),
                    list.specification_version,
                    list.vendor_list_version
                )
            },
            |done, total| {
                if done % 50 == 0 || done == total {
                    eprintln!("  {done}/{total}");
                }
            },
        )
    })
    .map_err(|e| match e {
        DomainError::Invalid(errors) => errors
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    })?;
    eprintln!(
        "created {}, updated {}, unchanged {}, suspended {}, {} warnings",
        report.created,
        report.updated,
        report.unchanged,
        report.suspended,
        report.warnings.len()
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    Ok(())
}

#[derive(Subcommand)]
enum AuditCommand {
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
    },
}

fn audit_verify(
    file: &std::path::Path,
    public_key: &std::path::Path,
    checkpoint_files: &[PathBuf],
) -> Result<bool, String> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let keys = vendor_registry::ledger::offline::read_keys(&read(public_key)?)?;
    let mut checkpoints = Vec::new();
    for f in checkpoint_files {
        checkpoints.extend(vendor_registry::ledger::offline::read_checkpoints(&read(
            f,
        )?)?);
    }
    if checkpoints.is_empty() {
        eprintln!(
            "warning: no checkpoints given: a truncated tail or a re-hashed chain cannot be detected"
        );
    }
    let entries =
        std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let report = vendor_registry::ledger::offline::verify(
        std::io::BufReader::new(entries),
        checkpoints,
        &keys,
    )?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    Ok(report.ok)
}

fn config(storage: Storage, bind: String) -> Config {
    Config {
        bind,
        data_dir: storage.data_dir,
        database_url: storage.database_url,
        jwt: Config::jwt_from_env(),
        pool_size: storage.pool_size.max(1),
        ledger_key: storage.ledger_key,
        ledger_trusted_keys: storage.ledger_trusted_keys,
        checkpoint_every_entries: storage.checkpoint_every.max(1),
        checkpoint_every_secs: storage.checkpoint_seconds.max(1),
        min_free_bytes: storage.min_free_bytes,
        decision_batch: storage.decision_batch.max(1),
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("VENDOR_REGISTRY_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => {
            print!("{}", openapi_json(&openapi()));
            ExitCode::SUCCESS
        }
        Command::Import {
            command:
                ImportCommand::Gvl {
                    file,
                    actor,
                    storage,
                },
        } => {
            init_logging();
            match import_gvl(&file, &actor, &config(storage, String::new())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    file,
                    public_key,
                    checkpoints,
                },
        } => match audit_verify(&file, &public_key, &checkpoints) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(2),
            Err(e) => fail(&e),
        },
        Command::Healthcheck { bind } => match probe(&bind) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        },
        Command::Token {
            role,
            sub,
            ttl,
            data_dir,
        } => {
            for r in &role {
                if auth::Role::parse(r).is_none() {
                    eprintln!("warning: '{r}' is not a role this service knows; it grants nothing");
                }
            }
            let keys = match auth::AuthKeys::load(&Config::jwt_from_env(), &data_dir) {
                Ok(keys) => keys,
                Err(e) => return fail(&e),
            };
            match keys.mint(&sub, &role, ttl) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Migrate { storage } => {
            init_logging();
            let config = config(storage, String::new());
            let result = db::pool(&config.target(), 1)
                .map_err(|e| e.to_string())
                .and_then(|pool| pool.get().map_err(|e| e.to_string()))
                .and_then(|mut conn| {
                    db::migrate(&mut conn).map_err(|e| e.to_string())?;
                    db::write_tx(&mut conn, vendor_registry::taxonomy::seed::ensure)
                        .map_err(|e| e.to_string())
                });
            match result {
                Ok(()) => {
                    tracing::info!("database is up to date");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("migration failed: {e}")),
            }
        }
        Command::Serve { bind, storage } => {
            init_logging();
            let config = config(storage, bind);
            match actix_web::rt::System::new().block_on(serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let state = actix_web::web::Data::new(AppState::open(&config)?);
    {
        let (pool, keys) = (state.pool.clone(), state.ledger_keys.clone());
        let schedule = vendor_registry::ledger::checkpoints::Schedule {
            every_entries: config.checkpoint_every_entries,
            every: std::time::Duration::from_secs(config.checkpoint_every_secs),
        };
        std::thread::Builder::new()
            .name("checkpoints".into())
            .spawn(move || vendor_registry::ledger::checkpoints::run_periodic(pool, keys, schedule))
            .map_err(|e| format!("cannot start the checkpoint signer: {e}"))?;
    }
    if let vendor_registry::db::Target::Postgres(url) = &state.target {
        let (url, pool, slot) = (url.clone(), state.pool.clone(), state.snapshot.clone());
        std::thread::Builder::new()
            .name("register-follower".into())
            .spawn(move || vendor_registry::decision::follow::follow(&url, pool, slot))
            .map_err(|e| format!("cannot start the register follower: {e}"))?;
    }
    let backend = if state.target.is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    tracing::info!(bind = %config.bind, backend, data_dir = %config.data_dir.display(), "vendor-registry listening");
    actix_web::HttpServer::new(move || app(state.clone()))
        .bind(&config.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?
        .client_request_timeout(std::time::Duration::from_secs(10))
        .client_disconnect_timeout(std::time::Duration::from_secs(5))
        .shutdown_timeout(30)
        .run()
        .await
        .map_err(|e| e.to_string())
}

/// A dependency-free HTTP probe of `/readyz` (the runtime image carries no curl).
fn probe(bind: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::Duration;
    // A server bound to every interface is probed on loopback.
    let target = bind
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    let addr = target
        .to_socket_addrs()
        .map_err(|e| format!("bad address {target}: {e}"))?
        .next()
        .ok_or_else(|| format!("bad address {target}"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).map_err(|e| e.to_string())?;
    if head.starts_with(b"HTTP/1.0 200") || head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("not ready: {}", String::from_utf8_lossy(&head)))
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
