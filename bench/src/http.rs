//! The decision endpoint over HTTP, against the ceiling of the HTTP stack, in one run: a trivial
//! actix JSON echo endpoint, our `POST /v1/sharing-requests` with the group-committed durable
//! ledger, and the same endpoint committing each decision on its own. Rounds are interleaved
//! (A B C A B C …), the servers run on core 0 and the load generator on core 1. Then `kill -9`
//! under load: every acknowledged decision must be in the ledger after a restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::load::{self, Load};

/// How long and how hard.
#[derive(Clone, Copy)]
pub struct Plan {
    pub rounds: usize,
    pub saturation: Duration,
    pub fixed: Duration,
    pub connections: usize,
    pub kills: usize,
}

impl Plan {
    pub fn full() -> Plan {
        Plan {
            rounds: 5,
            saturation: Duration::from_secs(5),
            fixed: Duration::from_secs(3),
            connections: 64,
            kills: 5,
        }
    }

    pub fn smoke() -> Plan {
        Plan {
            rounds: 1,
            saturation: Duration::from_millis(500),
            fixed: Duration::from_millis(500),
            connections: 16,
            kills: 1,
        }
    }
}

/// Two cores or more: servers on core 0, the load generator on core 1.
fn cores() -> (Option<usize>, Option<usize>) {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2 {
        (Some(0), Some(1))
    } else {
        (None, None)
    }
}

// ---------------------------------------------------------------- processes

pub use vendor_registry_test_support::{call, free_port};

/// A server process, killed and reaped when dropped.
pub struct Server {
    pub port: u16,
    child: Child,
}

impl Server {
    /// Starts `program args…` on core 0 (when there is a core 1 for the load) and waits until
    /// `ready` answers 200.
    pub fn spawn(program: &Path, args: &[String], env: &[(&str, String)], ready: &str) -> Server {
        let port = free_port();
        let mut cmd = match cores().0 {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &core.to_string()]).arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.args(args)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start a server");
        let server = Server { port, child };
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if call(port, "GET", ready, "", None, &[]).is_some_and(|(s, _)| s == 200) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not become ready", program.display());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident and peak resident memory, KiB.
    pub fn memory(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where the service binary is: beside this one (same profile), built if missing.
pub fn service_binary() -> PathBuf {
    let me = std::env::current_exe().expect("own path");
    let dir = me.parent().expect("a directory");
    let bin = dir.join("vendor-registry");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--locked",
            "-p",
            "vendor-registry",
            "--bin",
            "vendor-registry",
        ]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        let ok = cmd.status().is_ok_and(|s| s.success());
        assert!(ok && bin.exists(), "cannot build {}", bin.display());
    }
    bin
}

/// Runs the service binary with `args` to the end, polling its peak resident memory: (seconds, peak KiB, stdout).
pub fn measured(args: &[&std::ffi::OsStr]) -> (f64, u64, String) {
    let started = Instant::now();
    let child = Command::new(service_binary())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("vendor-registry");
    let status = format!("/proc/{}/status", child.id());
    let poll = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(s) = std::fs::read_to_string(&status) {
            if let Some(kib) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    });
    let out = child.wait_with_output().expect("the process");
    let elapsed = started.elapsed().as_secs_f64();
    (
        elapsed,
        poll.join().unwrap_or(0),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A token for `sub` with `role`, signed with the key in `data_dir`.
pub fn token(data_dir: &Path, role: &str, sub: &str) -> String {
    let out = Command::new(service_binary())
        .args(["token", "--role", role, "--sub", sub, "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("vendor-registry token");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Where a node keeps its data.
#[derive(Clone)]
pub enum Backend {
    Sqlite,
    /// An administrative URL; each node gets a database of its own, dropped at the end.
    Postgres(String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgresql",
        }
    }
}

/// A database of its own on PostgreSQL, dropped at the end.
pub struct Database(vendor_registry_test_support::Database);

impl Database {
    pub fn create(admin: &str) -> Database {
        Database(vendor_registry_test_support::Database::create(
            admin, "vr_bench",
        ))
    }

    pub fn url(&self) -> &str {
        &self.0.url
    }
}

/// A service node with its data directory (and database, on PostgreSQL).
pub struct Node {
    pub server: Server,
    pub dir: tempfile::TempDir,
    db: Option<Database>,
    batch: usize,
}

impl Node {
    pub fn start(backend: &Backend, batch: usize) -> Node {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = match backend {
            Backend::Sqlite => None,
            Backend::Postgres(admin) => Some(Database::create(admin)),
        };
        let server = Node::serve(dir.path(), db.as_ref(), batch);
        Node {
            server,
            dir,
            db,
            batch,
        }
    }

    fn serve(dir: &Path, db: Option<&Database>, batch: usize) -> Server {
        let mut env = vec![("VENDOR_REGISTRY_DECISION_BATCH", batch.to_string())];
        if let Some(db) = db {
            env.push(("DATABASE_URL", db.url().to_owned()));
        }
        Server::spawn(
            &service_binary(),
            &[
                "serve".into(),
                "--data-dir".into(),
                dir.display().to_string(),
            ],
            &env,
            "/readyz",
        )
    }

    /// Starts the node again on the same data.
    pub fn restart(&mut self) {
        self.server.kill();
        self.server = Node::serve(self.dir.path(), self.db.as_ref(), self.batch);
    }

    pub fn token(&self, role: &str, sub: &str) -> String {
        token(self.dir.path(), role, sub)
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.call_with(method, path, token, body, &[])
    }

    fn call_with(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        call(self.server.port, method, path, token, body, extra)
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    /// A register to decide against: one service, `PARTIES` trusted parties with grants, and
    /// the request bodies the load sends (approvals and denials of several kinds).
    pub fn register(&self) -> Vec<Value> {
        let (admin, alice, bob) = (
            self.token("admin", "root"),
            self.token("procurement", "alice"),
            self.token("procurement", "bob"),
        );
        let (s, _) = self.call(
            "POST",
            "/v1/services",
            &admin,
            Some(&json!({"key": SERVICE, "name": "Bench", "purposes": ["marketing", "analytics"]})),
        );
        assert_eq!(s, 201, "create the service");
        let mut bodies = Vec::new();
        for p in 0..PARTIES {
            let (s, party) = self.call("POST", "/v1/parties", &alice, Some(&json!({"kind": "third_party",
                "legal_name": format!("Vendor {p}"), "country": "US", "data_locations": ["US", "CN"],
                "privacy_policy_url": "https://vendor.example/privacy", "contact_email": "privacy@vendor.example"})));
            assert_eq!(s, 201, "create a party");
            let id = party["id"].as_str().expect("an id").to_owned();
            let (s, grant) = self.call(
                "POST",
                &format!("/v1/parties/{id}/grants"),
                &alice,
                Some(&json!({"service": SERVICE,
                "categories": ["user.contact.email", "user.name"], "allowed_regions": ["US"]})),
            );
            assert_eq!(s, 201, "create a grant");
            let gid = grant["id"].as_str().expect("a grant id");
            let (s, _) = self.call_with(
                "POST",
                &format!("/v1/grants/{gid}/approve"),
                &bob,
                None,
                &[("If-Match", "\"1\"")],
            );
            assert_eq!(s, 200, "approve the grant (a second person)");
            let (s, _) = self.call_with(
                "POST",
                &format!("/v1/parties/{id}/status"),
                &bob,
                Some(&json!({"status": "trusted"})),
                &[("If-Match", "\"1\"")],
            );
            assert_eq!(s, 200, "trust the party");
            let ask = |categories: Value, country: &str, purpose: &str| {
                json!({"party_id": id, "purpose": purpose, "categories": categories,
                    "destination_country": country, "subject_country": "US", "subject_count": 1})
            };
            bodies.push(ask(
                json!(["user.contact.email", "user.name.first"]),
                "US",
                "marketing.communications.email",
            ));
            bodies.push(ask(
                json!(["user.contact.email"]),
                "US",
                "analytics.reporting",
            ));
            bodies.push(ask(
                json!(["user.contact.phone_number"]),
                "US",
                "marketing.communications.email",
            ));
            bodies.push(ask(
                json!(["user.contact.email"]),
                "CN",
                "analytics.reporting",
            ));
        }
        bodies
    }
}

const SERVICE: &str = "bench";
const PARTIES: usize = 8;

// ---------------------------------------------------------------- the rounds

/// The median, least and greatest of some figures.
fn spread(mut v: Vec<f64>) -> Value {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return Value::Null;
    }
    json!({"median": v[v.len() / 2], "min": v[0], "max": v[v.len() - 1]})
}

struct Variant {
    name: &'static str,
    port: u16,
    requests: Arc<Vec<Vec<u8>>>,
}

fn round(v: &Variant, plan: &Plan, duration: Duration, rate: Option<f64>) -> Value {
    let outcome = load::run(Load {
        port: v.port,
        requests: v.requests.clone(),
        connections: plan.connections,
        duration,
        rate,
        keep_ids: false,
        core: cores().1,
    });
    outcome.summary()
}

/// Interleaved rounds of every variant; per variant: every round and the spread of each figure.
fn interleave(variants: &[Variant], plan: &Plan, duration: Duration, rate: Option<f64>) -> Value {
    let mut rounds: Vec<Vec<Value>> = vec![Vec::new(); variants.len()];
    for _ in 0..plan.rounds {
        for (i, v) in variants.iter().enumerate() {
            rounds[i].push(round(v, plan, duration, rate));
        }
    }
    let mut out = serde_json::Map::new();
    for (v, rs) in variants.iter().zip(rounds) {
        let figure = |k: &str| spread(rs.iter().filter_map(|r| r[k].as_f64()).collect());
        out.insert(
            v.name.into(),
            json!({"requests_per_s": figure("requests_per_s"), "p50_us": figure("p50_us"),
                "p99_us": figure("p99_us"), "rounds": rs}),
        );
    }
    Value::Object(out)
}

/// Per-round ratios `a / b` of requests/s (rounds are paired: the same index ran back to back).
fn ratio(result: &Value, a: &str, b: &str) -> Value {
    let (Some(ra), Some(rb)) = (
        result[a]["rounds"].as_array(),
        result[b]["rounds"].as_array(),
    ) else {
        return Value::Null;
    };
    spread(
        ra.iter()
            .zip(rb)
            .filter_map(|(x, y)| {
                let (x, y) = (x["requests_per_s"].as_f64()?, y["requests_per_s"].as_f64()?);
                (y > 0.0).then(|| (x / y * 100.0).round() / 100.0)
            })
            .collect(),
    )
}

/// The echo ceiling vs the decision endpoint (group commit) vs commit per decision, on `backend`.
pub fn compare(backend: &Backend, plan: &Plan, bench_exe: &Path) -> Value {
    let group = Node::start(backend, 256);
    let single = Node::start(backend, 1);
    let echo = Server::spawn(bench_exe, &["echo".into()], &[], "/healthz");
    let bodies = group.register();
    let single_bodies = single.register();
    let service = |n: &Node, bodies: &[Value]| -> Arc<Vec<Vec<u8>>> {
        let token = n.token("service", SERVICE);
        Arc::new(
            bodies
                .iter()
                .map(|b| load::post("/v1/sharing-requests", &token, b))
                .collect(),
        )
    };
    let echo_token = group.token("service", SERVICE);
    let variants = [
        Variant {
            name: "echo",
            port: echo.port,
            requests: Arc::new(
                bodies
                    .iter()
                    .map(|b| load::post("/echo", &echo_token, b))
                    .collect(),
            ),
        },
        Variant {
            name: "decision_group_commit",
            port: group.server.port,
            requests: service(&group, &bodies),
        },
        Variant {
            name: "decision_commit_each",
            port: single.server.port,
            requests: service(&single, &single_bodies),
        },
    ];
    // Warm-up: connections, caches, the snapshot.
    for v in &variants {
        round(v, plan, Duration::from_millis(300), None);
    }
    let saturation = interleave(&variants, plan, plan.saturation, None);
    let median = |name: &str| {
        saturation[name]["requests_per_s"]["median"]
            .as_f64()
            .unwrap_or(0.0)
    };
    // Two fixed rates: half of what commit-per-decision sustains (every variant keeps up), and
    // half of what group commit sustains (commit-per-decision cannot).
    let low = (median("decision_commit_each") / 2.0).max(10.0).round();
    let high = (median("decision_group_commit") / 2.0).max(10.0).round();
    let fixed_low = interleave(&variants, plan, plan.fixed, Some(low));
    let fixed_high = interleave(&variants, plan, plan.fixed, Some(high));
    let (rss, peak) = group.server.memory();
    json!({
        "backend": backend.name(),
        "connections": plan.connections,
        "rounds": plan.rounds,
        "saturation": saturation,
        "ratios": {
            "group_commit_vs_echo": ratio(&saturation, "decision_group_commit", "echo"),
            "group_commit_vs_commit_each": ratio(&saturation, "decision_group_commit", "decision_commit_each"),
        },
        "fixed_rate": [
            {"requests_per_s": low, "result": fixed_low},
            {"requests_per_s": high, "result": fixed_high},
        ],
        "group_commit_node_rss_kib": rss,
        "group_commit_node_peak_rss_kib": peak,
    })
}

// ---------------------------------------------------------------- kill -9 under load

/// Kills a node with -9 while it is under load, `plan.kills` times, and checks after each
/// restart that every decision it acknowledged (201) is stored and that the ledger verifies.
pub fn crash(backend: &Backend, plan: &Plan) -> Value {
    let mut node = Node::start(backend, 256);
    let bodies = node.register();
    let token = node.token("service", SERVICE);
    let auditor = node.token("auditor", "audrey");
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        bodies
            .iter()
            .map(|b| load::post("/v1/sharing-requests", &token, b))
            .collect(),
    );
    let mut acknowledged: Vec<String> = Vec::new();
    let mut runs = Vec::new();
    for _ in 0..plan.kills {
        let port = node.server.port;
        let pid = node.server.pid();
        let load_for = plan.saturation.max(Duration::from_secs(1));
        let loader = std::thread::spawn({
            let requests = requests.clone();
            let connections = plan.connections;
            move || {
                load::run(Load {
                    port,
                    requests,
                    connections,
                    duration: load_for,
                    rate: None,
                    keep_ids: true,
                    core: cores().1,
                })
            }
        });
        std::thread::sleep(load_for / 2);
        // SAFETY: sending a signal to our own child.
        #[expect(unsafe_code, reason = "kill -9 of our own child process")]
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
        let outcome = loader.join().expect("the load");
        node.restart();
        let stored = stored_ids(&node, &auditor);
        let missing = outcome
            .ids
            .iter()
            .filter(|id| !stored.contains(*id))
            .count();
        let (s, verify) = node.call("GET", "/v1/audit/verify", &auditor, None);
        runs.push(json!({"acknowledged": outcome.ids.len(), "missing": missing, "connection_errors": outcome.errors,
            "verify_status": s, "ledger_ok": verify["ok"], "entries": verify["entries"]}));
        acknowledged.extend(outcome.ids);
    }
    let stored = stored_ids(&node, &auditor);
    let missing = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .count();
    let ledger_ok = runs.iter().all(|r| r["ledger_ok"] == json!(true));
    json!({"backend": backend.name(), "kills": plan.kills, "acknowledged": acknowledged.len(), "missing": missing,
        "ledger_ok": ledger_ok, "runs": runs})
}

/// Every stored decision id, through the API.
fn stored_ids(node: &Node, token: &str) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/sharing-requests?limit=200&cursor={c}"),
            None => "/v1/sharing-requests?limit=200".to_owned(),
        };
        let (s, page) = node.call("GET", &path, token, None);
        assert_eq!(s, 200, "list decisions: {page}");
        for d in page["items"].as_array().into_iter().flatten() {
            if let Some(id) = d["id"].as_str() {
                ids.insert(id.to_owned());
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

// ---------------------------------------------------------------- the echo server

/// A trivial actix JSON echo endpoint: the ceiling of the HTTP stack on this machine. Parses the
/// body as JSON and answers it back; `/healthz` for readiness.
pub fn echo(bind: &str) -> std::io::Result<()> {
    use actix_web::{App, HttpResponse, HttpServer, web};
    actix_web::rt::System::new().block_on(async {
        HttpServer::new(|| {
            App::new()
                .route(
                    "/echo",
                    web::post().to(|body: web::Json<Value>| async move {
                        HttpResponse::Ok().json(body.into_inner())
                    }),
                )
                .route("/healthz", web::get().to(HttpResponse::Ok))
        })
        .bind(bind)?
        .run()
        .await
    })
}
