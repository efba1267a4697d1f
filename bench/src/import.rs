//! The register imported from a spreadsheet at scale: `parties × 5` grants written as the
//! register CSV, imported with `vendor-registry import register` into a fresh SQLite database,
//! then imported again (every row unchanged). Wall time and the importer's peak resident memory.

use std::fmt::Write as _;

use diesel::{Connection, SqliteConnection};
use serde_json::{Value, json};

use crate::engine::SCOPES;
use crate::http::measured;
use crate::scale::{SERVICES, migrated, services};

const GRANTS_PER_PARTY: usize = 5;

/// The spreadsheet: one row per grant, each party's five grants on five services.
fn sheet(parties: usize) -> String {
    let mut s = String::from(
        "external_ref,kind,legal_name,country,data_locations,privacy_policy_url,contact_email,\
         service,categories,allowed_regions,valid_from\n",
    );
    for p in 0..parties {
        for g in 0..GRANTS_PER_PARTY {
            let _ = writeln!(
                s,
                "erp:V-{p},third_party,Vendor {p} Ltd,US,US;DE,https://v{p}.example/privacy,dpo@v{p}.example,\
                 svc-{},{};{},US,2026-12-01T00:00:00Z",
                (p + g) % SERVICES,
                SCOPES[(p + g) % SCOPES.len()],
                SCOPES[(p + g + 3) % SCOPES.len()],
            );
        }
    }
    s
}

/// Runs the importer on `file`: (seconds, peak KiB, report).
fn import(data: &std::path::Path, file: &std::path::Path) -> (f64, u64, Value) {
    let (elapsed, peak, out) = measured(&[
        "import".as_ref(),
        "register".as_ref(),
        file.as_os_str(),
        "--data-dir".as_ref(),
        data.as_os_str(),
    ]);
    let report: Value = serde_json::from_str(&out).expect("a JSON report");
    (elapsed, peak, report)
}

pub fn run(parties: usize) -> Value {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = migrated(dir.path());
    let mut conn = SqliteConnection::establish(&data.join("registry.db").display().to_string())
        .expect("the database");
    services(&mut conn);
    drop(conn);
    let file = dir.path().join("register.csv");
    std::fs::write(&file, sheet(parties)).expect("the sheet");
    let rows = parties * GRANTS_PER_PARTY;
    let (first_s, first_kib, first) = import(&data, &file);
    assert_eq!(first["rejected"], 0, "every row imports: {first}");
    assert_eq!(first["grants"]["created"], rows, "{first}");
    let (again_s, again_kib, again) = import(&data, &file);
    assert_eq!(
        again["grants"]["unchanged"], rows,
        "a re-import changes nothing"
    );
    let round = |x: f64| (x * 10.0).round() / 10.0;
    json!({"parties": parties, "grants": rows, "rows": rows,
        "import_s": round(first_s), "rows_per_s": (rows as f64 / first_s).round(),
        "peak_rss_kib": first_kib,
        "reimport_unchanged_s": round(again_s), "reimport_rows_per_s": (rows as f64 / again_s).round(),
        "reimport_peak_rss_kib": again_kib})
}
