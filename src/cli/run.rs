//! What the subcommands do beyond parsing: serving, importing, verifying offline, probing.

use std::path::PathBuf;

use vendor_registry::api::{AppState, app};
use vendor_registry::config::Config;
use vendor_registry::db;
use vendor_registry::error::DomainError;

pub fn import_gvl(
    file: &std::path::Path,
    actor: &str,
    options: vendor_registry::imports::GvlOptions,
    config: &Config,
) -> Result<(), String> {
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
            options,
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
    .map_err(describe)?;
    eprintln!(
        "{}created {}, updated {}, unchanged {}, suspended {}, {} warnings",
        if report.dry_run {
            "dry run, nothing written: "
        } else {
            ""
        },
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

/// Imports a register spreadsheet through the same reader and rules as
/// `POST /v1/imports/register`, with a progress line on stderr and the report on stdout.
/// Answers whether every row was taken.
pub fn import_register(
    file: &std::path::Path,
    actor: &str,
    dry_run: bool,
    row_by_row: bool,
    config: &Config,
) -> Result<bool, String> {
    use std::io::Write;
    use vendor_registry::imports::register::{ImportMode, import_register};
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let csv = !file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let rows = vendor_registry::api::register_import::read_rows(&bytes, csv).map_err(describe)?;
    let mode = if row_by_row {
        ImportMode::RowByRow
    } else {
        ImportMode::AllOrNothing
    };
    let principal = vendor_registry::auth::Principal {
        sub: actor.to_owned(),
        roles: vec![vendor_registry::auth::Role::Procurement],
    };
    let pool = vendor_registry::open_storage(config, 1)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let total = rows.len();
    eprintln!(
        "importing {total} rows from {}{}",
        file.display(),
        if dry_run { " (dry run)" } else { "" }
    );
    let report = db::write_tx(&mut conn, |conn| {
        import_register(conn, &principal, rows, mode, dry_run, |done, total| {
            if done % 100 == 0 || done == total {
                let width = 30;
                let filled = done * width / total.max(1);
                eprint!(
                    "\r  [{}{}] {done}/{total}",
                    "#".repeat(filled),
                    " ".repeat(width - filled)
                );
                let _ = std::io::stderr().flush();
            }
        })
    })
    .map_err(describe)?;
    eprintln!();
    eprintln!(
        "parties: {} created, {} updated, {} unchanged; grants: {} created, {} amended, {} unchanged; agreements: {} created, {} updated, {} unchanged; {} rejected; {}",
        report.parties.created,
        report.parties.updated,
        report.parties.unchanged,
        report.grants.created,
        report.grants.amended,
        report.grants.unchanged,
        report.agreements.created,
        report.agreements.updated,
        report.agreements.unchanged,
        report.rejected,
        if report.applied {
            "written"
        } else {
            "nothing written"
        }
    );
    for e in report.errors() {
        eprintln!("  {}: {}", e.field, e.message);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    Ok(report.rejected == 0)
}

fn describe(e: DomainError) -> String {
    match e {
        DomainError::Invalid(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// The witnesses an offline check trusts.
pub struct Witnesses {
    pub keys: Vec<String>,
    pub min: Option<usize>,
    pub origin: Option<String>,
}

pub fn audit_verify(
    file: &std::path::Path,
    public_key: &std::path::Path,
    checkpoint_files: &[PathBuf],
    witnesses: &Witnesses,
) -> Result<bool, String> {
    use vendor_registry::ledger::note::Verifier;
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let key_text = read(public_key)?;
    let keys = vendor_registry::ledger::offline::read_keys(&key_text)?;
    let trusted: Vec<Verifier> = witnesses
        .keys
        .iter()
        .map(|k| {
            Verifier::parse(k)
                .filter(|v| v.witness)
                .ok_or_else(|| format!("not a witness verifier key: {k}"))
        })
        .collect::<Result<_, _>>()?;
    let origin = witnesses
        .origin
        .clone()
        .or_else(|| vendor_registry::ledger::offline::origin_of(&key_text))
        .unwrap_or_else(|| {
            let id = keys.first().map(vendor_registry::ledger::signing::key_id);
            format!("vendor-registry/{}", id.unwrap_or_default())
        });
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
    let given = !checkpoints.is_empty();
    let min = witnesses.min.unwrap_or(usize::from(!trusted.is_empty()));
    let (witnessed, witness_problems) =
        vendor_registry::ledger::witness::check(&checkpoints, &origin, Some(&trusted), min);
    let entries =
        std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let report = vendor_registry::ledger::offline::verify(
        std::io::BufReader::new(entries),
        checkpoints,
        &keys,
    )?;
    let mut report = report;
    report.fail_with(witness_problems);
    if min > 0 && witnessed.witnessed_size == 0 {
        report.fail_with(vec![format!(
            "no checkpoint is cosigned by {min} of the trusted witnesses"
        )]);
    }
    let mut out = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    out["witnessed"] = serde_json::to_value(&witnessed).map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    if given && report.checkpoints_checked == 0 {
        // Asked to check checkpoints, none applied (a partial export): not a pass.
        eprintln!(
            "warning: checkpoints were given but none applied: they are checked only against a \
             full export (from seq 1)"
        );
        return Ok(false);
    }
    Ok(report.ok)
}

pub async fn serve(config: Config) -> Result<(), String> {
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
    {
        let (pool, settings) = (state.pool.clone(), config.webhooks.clone());
        std::thread::Builder::new()
            .name("webhooks".into())
            .spawn(move || vendor_registry::webhooks::delivery::run_periodic(pool, settings))
            .map_err(|e| format!("cannot start the webhook sender: {e}"))?;
    }
    if config.background_wal_checkpoints && !state.target.is_postgres() {
        let pool = state.pool.clone();
        std::thread::Builder::new()
            .name("wal-checkpoints".into())
            .spawn(move || {
                vendor_registry::db::run_wal_checkpoints(
                    pool,
                    std::time::Duration::from_millis(250),
                )
            })
            .map_err(|e| format!("cannot start the WAL checkpointer: {e}"))?;
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
pub fn probe(bind: &str) -> Result<(), String> {
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
