//! Benchmarks of the decision path, in one run, into one JSON result file:
//! - `engine`: our engine vs Cedar vs Rego (regorus) vs a `HashMap` floor, in process, at 1,000
//!   parties and at 100,000 parties / 1,000,000 grants, after checking they agree on every decision;
//! - `http`: a trivial actix JSON echo endpoint vs our decision endpoint with the durable ledger
//!   (group commit) vs the same endpoint committing each decision on its own, interleaved
//!   rounds, at saturation and at fixed rates, on SQLite and (with `--database-url`) PostgreSQL;
//! - `crash`: `kill -9` under load, then every acknowledged decision must be in the ledger;
//! - `scale`: start-up time and resident memory with 1,000,000 grants;
//! - `import`: the register imported from a CSV of 10,000 parties with 50,000 grants, then
//!   imported again unchanged: wall time and the importer's peak resident memory;
//! - `ledger`: a ledger of 10,000 and of 10,000,000 entries (`--ledger-entries N,M` for others):
//!   tiles read per proof, checkpoint signing, proof latency over HTTP, export, verification
//!   and `serve`'s resident memory.
//!
//! ```sh
//! cargo run --release -p vendor-registry-bench -- [--smoke] [--out FILE] \
//!     [--only engine,http,crash,scale,import,ledger] [--ledger-entries N,M] [--database-url postgres://user:pw@127.0.0.1/postgres]
//! ```

mod engine;
mod http;
mod import;
mod ledger;
mod load;
mod scale;

use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.get(1).map(String::as_str) == Some("echo") {
        let bind = value("--bind").unwrap_or_else(|| "127.0.0.1:18400".into());
        if let Err(e) = http::echo(&bind) {
            eprintln!("echo: {e}");
            std::process::exit(1);
        }
        return;
    }
    let smoke = args.iter().any(|a| a == "--smoke");
    let out = value("--out");
    let only = value("--only").unwrap_or_else(|| "engine,http,crash,scale,import,ledger".into());
    let wants = |part: &str| only.split(',').any(|p| p.trim() == part);
    let mut backends = vec![http::Backend::Sqlite];
    if let Some(url) = value("--database-url").filter(|u| !u.is_empty()) {
        backends.push(http::Backend::Postgres(url));
    }
    let plan = if smoke {
        http::Plan::smoke()
    } else {
        http::Plan::full()
    };
    let me = std::env::current_exe().expect("own path");
    let mut report = json!({"smoke": smoke, "cores": std::thread::available_parallelism().map_or(1, |n| n.get())});
    let mut agreed = true;
    if wants("engine") {
        let runs = if smoke {
            vec![engine::run(200, 10, 1_000, true)]
        } else {
            vec![
                engine::run(1_000, 10, 20_000, true),
                engine::run(100_000, 10, 20_000, true),
            ]
        };
        agreed = runs.iter().all(|r| {
            r["agreement"]["cedar"] == r["agreement"]["of"]
                && r["agreement"]["rego"] == r["agreement"]["of"]
        });
        report["engine"] = json!(runs);
        eprintln!("engine: done");
    }
    if wants("http") {
        let results: Vec<_> = backends
            .iter()
            .map(|b| {
                let r = http::compare(b, &plan, &me);
                eprintln!("http {}: {}", b.name(), r["ratios"]);
                r
            })
            .collect();
        report["http"] = json!(results);
    }
    let mut lost = 0;
    if wants("crash") {
        let results: Vec<_> = backends
            .iter()
            .map(|b| {
                let r = http::crash(b, &plan);
                eprintln!(
                    "crash {}: {} acknowledged, {} missing",
                    b.name(),
                    r["acknowledged"],
                    r["missing"]
                );
                r
            })
            .collect();
        lost = results
            .iter()
            .map(|r| match r["ledger_ok"].as_bool() {
                Some(true) => r["missing"].as_u64().unwrap_or(u64::MAX),
                _ => u64::MAX,
            })
            .fold(0u64, u64::saturating_add);
        report["crash"] = json!(results);
    }
    if wants("scale") {
        let r = scale::run(if smoke { 1_000 } else { 100_000 });
        eprintln!("scale: {r}");
        report["scale"] = r;
    }
    if wants("import") {
        let r = import::run(if smoke { 200 } else { 10_000 });
        eprintln!("import: {r}");
        report["import"] = r;
    }
    if wants("ledger") {
        let sizes: Vec<u64> = match value("--ledger-entries") {
            Some(list) => list
                .split(',')
                .map(|n| {
                    n.trim()
                        .replace('_', "")
                        .parse()
                        .expect("--ledger-entries N,M")
                })
                .collect(),
            None if smoke => vec![2_000],
            None => vec![10_000, 10_000_000],
        };
        let runs: Vec<_> = sizes
            .iter()
            .map(|&n| {
                let r = ledger::run(n);
                eprintln!("ledger: {r}");
                r
            })
            .collect();
        report["ledger"] = json!(runs);
    }
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    println!("{text}");
    if let Some(path) = out {
        std::fs::write(&path, text).expect("write the result file");
    }
    if !agreed {
        eprintln!("the engines disagree");
        std::process::exit(1);
    }
    if lost > 0 {
        eprintln!(
            "after kill -9: acknowledged decisions are missing or the ledger does not verify"
        );
        std::process::exit(1);
    }
}
