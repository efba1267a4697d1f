//! The `vendor-registry` command line.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::args::{AuditCommand, Cli, Command, ImportCommand, config};
use vendor_registry::api::{openapi, openapi_json};
use vendor_registry::config::Config;
use vendor_registry::{auth, db};

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
                    force,
                    dry_run,
                    storage,
                },
        } => {
            init_logging();
            let options = vendor_registry::imports::GvlOptions { force, dry_run };
            match cli::run::import_gvl(&file, &actor, options, &config(storage, String::new())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Import {
            command:
                ImportCommand::Register {
                    file,
                    actor,
                    dry_run,
                    row_by_row,
                    storage,
                },
        } => {
            init_logging();
            let config = config(storage, String::new());
            match cli::run::import_register(&file, &actor, dry_run, row_by_row, &config) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(2),
                Err(e) => fail(&e),
            }
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    file,
                    public_key,
                    checkpoints,
                    witness_key,
                    min_witnesses,
                    origin,
                },
        } => {
            let witnesses = cli::run::Witnesses {
                keys: witness_key,
                min: min_witnesses,
                origin,
            };
            match cli::run::audit_verify(&file, &public_key, &checkpoints, &witnesses) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(2),
                Err(e) => fail(&e),
            }
        }
        Command::Audit {
            command:
                AuditCommand::Witness {
                    url,
                    token,
                    log_key,
                    state_dir,
                    name,
                    show_key,
                },
        } => {
            let name = name.filter(|n| !n.is_empty());
            if show_key {
                return match cli::witness::verifier_key(&state_dir, name.as_deref()) {
                    Ok(k) => {
                        println!("{k}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e),
                };
            }
            let (Some(token), Some(log_key)) = (token, log_key) else {
                return fail("--token (or VENDOR_REGISTRY_TOKEN) and --log-key are required");
            };
            let w = cli::witness::Witness {
                url: &url,
                token: &token,
                log_key: &log_key,
                state_dir: &state_dir,
                name: name.as_deref(),
            };
            match cli::witness::run(&w) {
                Ok(done) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&done).unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(3)
                }
            }
        }
        Command::Healthcheck { bind } => match cli::run::probe(&bind) {
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
            let keys = match auth::AuthKeys::existing(&Config::jwt_from_env(), &data_dir) {
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
            let mut config = config(storage, bind);
            config.background_wal_checkpoints = true;
            config.console = match vendor_registry::config::Config::console_from_env() {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            match actix_web::rt::System::new().block_on(cli::run::serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
