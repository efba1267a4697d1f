//! The `vendor-registry` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use vendor_registry::config::Config;
use vendor_registry::{AppState, app, auth, db, openapi, openapi_json};

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
    #[arg(long, env = "VENDOR_REGISTRY_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of SQLite.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Database connections in the pool.
    #[arg(long, env = "VENDOR_REGISTRY_POOL_SIZE", default_value_t = 8)]
    pool_size: u32,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "VENDOR_REGISTRY_BIND", default_value = "127.0.0.1:8080")]
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
        #[arg(long, env = "VENDOR_REGISTRY_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Exit 0 when the service at ADDR:PORT answers /readyz with 200 (for container health checks).
    Healthcheck {
        #[arg(long, env = "VENDOR_REGISTRY_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
    },
}

fn config(storage: Storage, bind: String) -> Config {
    Config {
        bind,
        data_dir: storage.data_dir,
        database_url: storage.database_url,
        jwt: Config::jwt_from_env(),
        pool_size: storage.pool_size.max(1),
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
