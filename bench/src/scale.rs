//! Start-up time and resident memory of a node whose register holds `parties × 10` grants
//! (SQLite): the register is written straight into a migrated database, then the node is
//! started and timed until `/readyz` answers.

use std::process::Command;
use std::time::Instant;

use diesel::{Connection, SqliteConnection, connection::SimpleConnection};
use serde_json::{Value, json};

use crate::engine::SCOPES;
use crate::http::{Server, call, service_binary, token};

const GRANTS_PER_PARTY: usize = 10;
pub(crate) const SERVICES: usize = 10;
const T: &str = "2026-11-29T00:00:00.000000Z";

/// Writes the services `svc-0` … `svc-9` straight into a migrated database.
pub(crate) fn services(conn: &mut SqliteConnection) {
    let mut sql = String::new();
    for s in 0..SERVICES {
        sql.push_str(&format!(
            "INSERT INTO services (key, name, description, purposes, active, created_at, updated_at, version) \
             VALUES ('svc-{s}', 'svc-{s}', '', '[\"marketing\"]', 1, '{T}', '{T}', 1);"
        ));
    }
    conn.batch_execute(&sql).expect("services");
}

/// The id of loaded party `p`, in the form the API issues (a hyphenated UUID).
fn party_id(p: usize) -> String {
    format!("00000000-0000-4000-8000-{p:012}")
}

/// Writes the register: `SERVICES` services, `parties` trusted parties, ten grants each.
fn fill(db: &std::path::Path, parties: usize) {
    let mut conn = SqliteConnection::establish(&db.display().to_string()).expect("the database");
    conn.batch_execute("BEGIN;").expect("begin");
    services(&mut conn);
    // A small linear congruential generator: the same register on every run, no dependency.
    let mut seed: u64 = 1;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    for chunk in (0..parties).collect::<Vec<_>>().chunks(1000) {
        let mut ps = Vec::with_capacity(chunk.len());
        let mut gs = Vec::with_capacity(chunk.len() * GRANTS_PER_PARTY);
        for p in chunk {
            ps.push(format!(
                "('{}', 'third_party', 'Vendor {p}', 'US', 'US', '[\"US\"]', 'https://v.example/p', 'a@v.example', \
                 'medium', 'trusted', '[]', '[]', 0, 'loader', '{T}', '{T}', 1)",
                party_id(*p)
            ));
            for g in 0..GRANTS_PER_PARTY {
                let a = next(SCOPES.len());
                let b = (a + 1 + next(SCOPES.len() - 1)) % SCOPES.len();
                gs.push(format!(
                    "('00000000-0000-4000-9000-{p:09}{g:03}', '{}', 'svc-{}', '[\"{}\",\"{}\"]', '[\"US\",\"PRC\"]', 'none', '{T}', 'active', 'loader', '{T}', '{T}', 1, 'loader', 'approver', '{T}')",
                    party_id(*p),
                    next(SERVICES),
                    SCOPES[a],
                    SCOPES[b]
                ));
            }
        }
        let sql = format!(
            "INSERT INTO parties (id, kind, legal_name, country, region, data_locations, privacy_policy_url, contact_email, \
             risk_tier, status, declared_purposes, declared_categories, deleted_upstream, created_by, created_at, updated_at, version) \
             VALUES {};\
             INSERT INTO grants (id, party_id, service, categories, allowed_regions, transfer_mechanism, valid_from, status, \
             created_by, created_at, updated_at, version, requested_by, approved_by, approved_at) VALUES {};",
            ps.join(","),
            gs.join(",")
        );
        conn.batch_execute(&sql).expect("parties and grants");
    }
    conn.batch_execute("COMMIT;").expect("commit");
}

/// A freshly migrated data directory under `dir`.
pub(crate) fn migrated(dir: &std::path::Path) -> std::path::PathBuf {
    let data = dir.join("data");
    let migrated = Command::new(service_binary())
        .args(["migrate", "--data-dir"])
        .arg(&data)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(migrated, "vendor-registry migrate");
    data
}

/// Start-up time to ready and resident memory with `parties × 10` grants.
pub fn run(parties: usize) -> Value {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = migrated(dir.path());
    let filled = Instant::now();
    fill(&data.join("registry.db"), parties);
    let fill_s = filled.elapsed().as_secs_f64();
    let started = Instant::now();
    let server = Server::spawn(
        &service_binary(),
        &[
            "serve".into(),
            "--data-dir".into(),
            data.display().to_string(),
        ],
        &[],
        "/readyz",
    );
    let startup_s = started.elapsed().as_secs_f64();
    let (rss, peak) = server.memory();
    let after_change = register_changes(&server, &data);
    json!({"parties": parties, "grants": parties * GRANTS_PER_PARTY, "startup_s": (startup_s * 100.0).round() / 100.0,
        "rss_kib": rss, "peak_rss_kib": peak, "fill_s": (fill_s * 10.0).round() / 10.0,
        "first_decision_after_a_register_change_ms": after_change})
}

/// A register change at scale: a grant is added, then a decision is asked at once. The decision's
/// batch brings the snapshot up to the change (the party's grants are read again, not the whole
/// register). Five changes; the decision latency of each, in milliseconds.
fn register_changes(server: &Server, data: &std::path::Path) -> Value {
    let (alice, svc) = (
        token(data, "procurement", "alice"),
        token(data, "service", "svc-0"),
    );
    let ask = json!({"party_id": party_id(0), "purpose": "marketing.communications.email",
        "categories": ["user.contact.email"], "destination_country": "US", "subject_country": "US", "subject_count": 1});
    let decide = || {
        let t = Instant::now();
        let answer = call(
            server.port,
            "POST",
            "/v1/sharing-requests",
            &svc,
            Some(&ask),
            &[],
        );
        assert_eq!(answer.map(|a| a.0), Some(201), "a decision");
        (t.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
    };
    let steady = decide();
    let mut after: Vec<f64> = Vec::new();
    for i in 1..=5 {
        let grant =
            json!({"service": "svc-0", "categories": ["user.name"], "allowed_regions": ["US"]});
        let created = call(
            server.port,
            "POST",
            &format!("/v1/parties/{}/grants", party_id(i)),
            &alice,
            Some(&grant),
            &[],
        );
        assert_eq!(created.map(|c| c.0), Some(201), "a grant");
        after.push(decide());
    }
    json!({"steady_ms": steady, "after_change_ms": after})
}
