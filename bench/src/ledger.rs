//! The ledger at scale, as an auditor uses it. A ledger of `entries` decisions is appended
//! through the ledger's own write path — `ledger::Appender`, which seals each entry exactly as a
//! decision batch does (the same canonical bytes, chain hash and leaf hash), in write
//! transactions of 1,000, each signing the checkpoint that falls due with the service's signer
//! (`checkpoints::sign_if_due`, every 1,000 entries by default, storing the tiles as they fill).
//! Only the decision rows of the query table are left out: nothing here reads them.
//!
//! Then, on that database: the tiles (rows) an inclusion and a consistency proof read, counted
//! by the proof code itself; checkpoint signing after 1,000 more entries; and, over HTTP against
//! `serve`, the latency of both proofs (p50, p99), the export's throughput, the HTTP verification,
//! and `audit verify` on the export (entries/s, its peak memory), with `serve`'s resident memory
//! before and after. With `BENCH_KEEP` set, the data directory, the export, the key and the
//! checkpoints are kept (their path is printed).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use vendor_registry::db::{self, DbConn, Target};
use vendor_registry::error::DomainError;
use vendor_registry::ledger::signing::LedgerKeys;
use vendor_registry::ledger::tiles::proofs::{self, FromTiles};
use vendor_registry::ledger::tiles::store::Db;
use vendor_registry::ledger::{Appender, Subject, action, checkpoints};

use crate::http::{Server, call, measured, service_binary, token};
use crate::scale::migrated;

/// Entries per write transaction, and the service's default checkpoint interval.
const BATCH: u64 = 1000;
const CHECKPOINT_EVERY: i64 = 1000;
/// Proofs asked per kind.
const PROOFS: usize = 1000;

/// The id of decision `i`: time-ordered like the service's UUIDv7 ids.
fn id(i: u64) -> String {
    format!(
        "01a2{:04x}-{:04x}-7000-8000-{:012x}",
        (i >> 16) & 0xffff,
        i & 0xffff,
        i
    )
}

/// Decision `i` as the ledger records one (the shape and size of a real approval, ~1 KiB).
fn decision(i: u64) -> Value {
    let id = id(i);
    json!({"categories": ["user.contact.email", "user.name"], "data_origin_country": "US",
        "decided_at": "2026-12-03T13:01:21.492089Z", "destination_country": "US", "exporter": "acme-us",
        "grants": [format!("0193a0c4-7b1e-7cc0-9d2a-{:012x}", i % 1000)], "id": id,
        "outcome": "approved", "party_id": format!("0193a0c4-7b1e-7cc0-9d2a-{:012x}", i % 997),
        "purpose": "marketing.communications.email", "reasons": [],
        "regimes": [{"regime": "dsp", "outcome": "not_applicable", "rule": "28 CFR 202.201"}],
        "register_revision": 150, "rules_version": "2026-01", "service": format!("svc-{}", i % 10),
        "subject_count": 1200, "subject_country": "US", "subject_region": "US",
        "volumes": [{"basis": "pipl_cumulative_personal", "count": 1200, "year": 2026}]})
}

/// Appends `count` decisions after the head, signing what falls due.
fn append(conn: &mut DbConn, keys: &LedgerKeys, from: u64, count: u64) {
    let actor = json!({"roles": ["service"], "sub": "newsletter"});
    let mut i = from;
    while i < from + count {
        let n = BATCH.min(from + count - i);
        db::write_tx(conn, |c| -> Result<(), DomainError> {
            let mut ledger = Appender::lock(c)?;
            for k in i..i + n {
                let change = vendor_registry::jcs::to_string(&decision(k));
                let id = id(k);
                let subject = Subject::SharingRequest(&id);
                ledger.append_canonical(&actor, action::DECISION_RECORDED, subject, change, false);
            }
            ledger.finish(c)?;
            checkpoints::sign_if_due(c, keys, CHECKPOINT_EVERY)
        })
        .expect("append a batch");
        i += n;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[at] * 1000.0).round() / 1000.0
}

/// p50, p99 and max of `ms`, in milliseconds.
fn latency(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    json!({"p50_ms": percentile(&ms, 0.5), "p99_ms": percentile(&ms, 0.99), "max_ms": percentile(&ms, 1.0)})
}

/// A small linear congruential generator: the same positions on every run.
fn positions(n: u64) -> Vec<u64> {
    let mut seed: u64 = 7;
    (0..PROOFS)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) % n
        })
        .collect()
}

/// The tiles each proof reads, counted by the proof code, for the same positions as over HTTP.
fn tiles_read(conn: &mut DbConn, n: u64) -> Value {
    let (mut inclusion, mut consistency) = (Vec::new(), Vec::new());
    for &m in &positions(n) {
        let mut tree = FromTiles::new(Db(conn));
        tree.leaf(m).expect("the leaf");
        proofs::inclusion(&mut tree, m, 0, n).expect("an inclusion proof");
        proofs::tree_hash(&mut tree, 0, n).expect("the root");
        inclusion.push(tree.reads);
        let mut tree = FromTiles::new(Db(conn));
        proofs::tree_hash(&mut tree, 0, m + 1).expect("the old root");
        proofs::consistency(&mut tree, m + 1, n).expect("a consistency proof");
        proofs::tree_hash(&mut tree, 0, n).expect("the root");
        consistency.push(tree.reads);
    }
    let stats = |v: &[usize]| json!({"max": v.iter().max(), "mean": (v.iter().sum::<usize>() as f64 / v.len() as f64 * 10.0).round() / 10.0});
    json!({"inclusion": stats(&inclusion), "consistency": stats(&consistency)})
}

/// Milliseconds of each `GET path(m)` for the positions.
fn over_http(server: &Server, auditor: &str, n: u64, path: impl Fn(u64) -> String) -> Value {
    let mut ms = Vec::with_capacity(PROOFS);
    for &m in &positions(n) {
        let t = Instant::now();
        let answer = call(server.port, "GET", &path(m), auditor, None, &[]);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(answer.map(|a| a.0), Some(200), "GET {}", path(m));
    }
    latency(ms)
}

/// `GET path` into `file` with curl (streamed, no time limit): the seconds it took.
fn fetch(server: &Server, auditor: &str, path: &str, file: &Path) -> f64 {
    let t = Instant::now();
    let url = format!("http://127.0.0.1:{}{path}", server.port);
    let fetched = Command::new("curl")
        .args(["-sf", "-o"])
        .arg(file)
        .args(["-H", &format!("Authorization: Bearer {auditor}"), &url])
        .status()
        .is_ok_and(|s| s.success());
    assert!(fetched, "GET {path}");
    t.elapsed().as_secs_f64()
}

/// Every page of checkpoints, one per line, as the auditor's recipe keeps them.
fn checkpoints_file(server: &Server, auditor: &str, file: &Path) -> usize {
    let (mut lines, mut cursor) = (String::new(), None::<String>);
    let mut count = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/audit/checkpoints?limit=200&cursor={c}"),
            None => "/v1/audit/checkpoints?limit=200".to_owned(),
        };
        let (status, page) = call(server.port, "GET", &path, auditor, None, &[]).expect("a page");
        assert_eq!(status, 200, "the checkpoints");
        for item in page["items"].as_array().expect("items") {
            lines.push_str(&item.to_string());
            lines.push('\n');
            count += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    std::fs::write(file, lines).expect("the checkpoints file");
    count
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// The measurements at one size.
pub fn run(entries: u64) -> Value {
    let dir = tempfile::tempdir_in(std::env::var_os("BENCH_TMPDIR").unwrap_or_else(|| ".".into()))
        .expect("a temporary directory");
    let data = migrated(dir.path());
    let keys = LedgerKeys::load(None, &data, &[]).expect("the ledger key");
    let pool = db::pool(&Target::Sqlite(data.join("registry.db")), 1).expect("the database");
    let mut conn = pool.get().expect("a connection");
    let (base, _, _) = vendor_registry::ledger::head(&mut conn).expect("the head");
    let loaded = Instant::now();
    append(&mut conn, &keys, 0, entries);
    let load_s = loaded.elapsed().as_secs_f64();
    eprintln!("ledger {entries}: appended in {load_s:.1} s");
    // Signing after a write transaction's worth of new entries, five times.
    let mut signing = Vec::new();
    for round in 0..5 {
        let from = entries + round * BATCH;
        append(&mut conn, &keys, from, BATCH - 1);
        let t = Instant::now();
        append(&mut conn, &keys, from + BATCH - 1, 1);
        signing.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (size, _, _) = vendor_registry::ledger::head(&mut conn).expect("the head");
    assert_eq!(
        size as u64,
        base as u64 + entries + 5 * BATCH,
        "every entry appended"
    );
    let tiles = tiles_read(&mut conn, size as u64);
    drop(conn);
    drop(pool);
    let db_bytes = std::fs::metadata(data.join("registry.db")).map_or(0, |m| m.len());

    let started = Instant::now();
    let args = [
        "serve".into(),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    let server = Server::spawn(&service_binary(), &args, &[], "/readyz");
    let startup_s = started.elapsed().as_secs_f64();
    let rss_start = server.memory();
    let auditor = token(&data, "auditor", "audrey");
    let n = size as u64;
    let inclusion = over_http(&server, &auditor, n, |m| {
        format!("/v1/audit/proof/{}", m + 1)
    });
    let consistency = over_http(&server, &auditor, n, |m| {
        format!("/v1/audit/consistency?from={}&to={n}", m + 1)
    });
    let rss_proofs = server.memory();

    eprintln!("ledger {entries}: proofs {inclusion} {consistency}");
    let export = dir.path().join("ledger.jsonl");
    let export_s = fetch(&server, &auditor, "/v1/audit/export", &export);
    let rss_export = server.memory();
    let verified = dir.path().join("verify.json");
    let http_verify_s = fetch(&server, &auditor, "/v1/audit/verify", &verified);
    let report: Value = std::fs::read_to_string(&verified)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    assert_eq!(report["ok"], true, "GET /v1/audit/verify: {report}");
    let rss_verify = server.memory();
    eprintln!("ledger {entries}: export {export_s:.1} s, HTTP verify {http_verify_s:.1} s");
    let (_, key) = call(server.port, "GET", "/v1/audit/public-key", "", None, &[]).expect("key");
    let key_file = dir.path().join("keys.json");
    std::fs::write(&key_file, key.to_string()).expect("the key file");
    let cps = dir.path().join("checkpoints.jsonl");
    let signed = checkpoints_file(&server, &auditor, &cps);
    drop(server);

    let (verify_s, verify_kib, report) = measured(&[
        "audit".as_ref(),
        "verify".as_ref(),
        "--file".as_ref(),
        export.as_os_str(),
        "--public-key".as_ref(),
        key_file.as_os_str(),
        "--checkpoints".as_ref(),
        cps.as_os_str(),
    ]);
    let report: Value = serde_json::from_str(&report).unwrap_or(Value::Null);
    assert_eq!(report["ok"], true, "audit verify: {report}");
    let export_bytes = std::fs::metadata(&export).map_or(0, |m| m.len());
    if std::env::var_os("BENCH_KEEP").is_some() {
        eprintln!("ledger {entries}: kept {}", dir.keep().display());
    }
    json!({
        "entries": size, "appended": entries + 5 * BATCH, "database_bytes": db_bytes,
        "append_s": round(load_s, 1), "append_entries_per_s": round(entries as f64 / load_s, 0),
        "checkpoint_signing_after_1000_entries_ms": latency(signing),
        "tiles_read_per_proof": tiles,
        "serve_startup_s": round(startup_s, 2),
        "http_inclusion_proof": inclusion, "http_consistency_proof": consistency,
        "export": {"s": round(export_s, 1), "entries_per_s": round(size as f64 / export_s, 0), "bytes": export_bytes},
        "http_verify": {"s": round(http_verify_s, 1), "entries_per_s": round(size as f64 / http_verify_s, 0)},
        "audit_verify": {"s": round(verify_s, 1), "entries_per_s": round(size as f64 / verify_s, 0),
            "peak_rss_kib": verify_kib, "checkpoints": signed, "checkpoints_checked": report["checkpoints_checked"]},
        "serve_rss_kib": {"started": rss_start.0, "after_proofs": rss_proofs.0,
            "after_export": rss_export.0, "after_http_verify": rss_verify.0, "peak": rss_verify.1},
    })
}
