//! Three `vendor-registry serve` processes on one PostgreSQL, as operators run them: a revoke
//! on one is honoured by the next decision on the others, concurrent decisions on all three
//! form one verifiable chain, and a node killed with -9 loses nothing it acknowledged while the
//! others go on. Needs TEST_DATABASE_URL; `.ci/run` runs it with `--ignored`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One HTTP/1.1 exchange on loopback; `None` when the node does not answer.
fn call(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> Option<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(payload.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.get(9..12)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

struct Node {
    port: u16,
    child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(url: &str, data_dir: &std::path::Path) -> Node {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by the guard from here on, so it is killed and reaped whatever happens.
    let node = Node { port, child };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if call(port, "GET", "/readyz", "", None, &[]).is_some_and(|(s, _)| s == 200) {
            return node;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("node on {port} did not start");
}

fn token(data_dir: &std::path::Path, role: &str, sub: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args(["token", "--role", role, "--sub", sub, "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A database of its own, dropped at the end.
struct Database {
    base: String,
    name: String,
    url: String,
}

impl Database {
    fn create(base: &str) -> Database {
        use diesel::{Connection, RunQueryDsl};
        let name = format!("vr_nodes_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(base).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        let cut = base.rfind('/').unwrap();
        Database {
            base: base.to_owned(),
            url: format!("{}/{name}", &base[..cut]),
            name,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut admin) = diesel::PgConnection::establish(&self.base) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

#[test]
#[ignore = "needs TEST_DATABASE_URL; starts three server processes"]
fn three_nodes_on_one_postgresql_behave_as_one_service() {
    let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let db = Database::create(&base);
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let a = start(&url, dir.path());
    let b = start(&url, dir.path());
    let c = start(&url, dir.path());
    let (admin, alice, bob, auditor, svc) = (
        token(dir.path(), "admin", "root"),
        token(dir.path(), "procurement", "alice"),
        token(dir.path(), "procurement", "bob"),
        token(dir.path(), "auditor", "audrey"),
        token(dir.path(), "service", "newsletter"),
    );
    let (s, _) = call(
        a.port,
        "POST",
        "/v1/services",
        &admin,
        Some(&json!({"key": "newsletter", "name": "N", "purposes": ["marketing"]})),
        &[],
    )
    .unwrap();
    assert_eq!(s, 201);
    let (_, party) = call(a.port, "POST", "/v1/parties", &alice, Some(&json!({"kind": "third_party", "legal_name": "Acme",
        "country": "US", "data_locations": ["US"], "privacy_policy_url": "https://acme.example/p", "contact_email": "a@acme.example"})), &[]).unwrap();
    let pid = party["id"].as_str().unwrap().to_owned();
    let (_, grant) = call(b.port, "POST", &format!("/v1/parties/{pid}/grants"), &alice,
        Some(&json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"]})), &[]).unwrap();
    let (s, _) = call(
        c.port,
        "POST",
        &format!("/v1/parties/{pid}/status"),
        &bob,
        Some(&json!({"status": "trusted"})),
        &[("If-Match", "\"1\"")],
    )
    .unwrap();
    assert_eq!(s, 200);
    let ask = json!({"party_id": pid, "purpose": "marketing.communications.email", "categories": ["user.contact.email"],
        "destination_country": "US", "subject_region": "US"});
    for n in [&a, &b, &c] {
        let (s, d) = call(
            n.port,
            "POST",
            "/v1/sharing-requests",
            &svc,
            Some(&ask),
            &[],
        )
        .unwrap();
        assert_eq!((s, d["outcome"].as_str()), (201, Some("approved")), "{d}");
    }

    // Concurrent decisions on all three nodes; node C is killed with -9 half-way.
    let ports = [a.port, b.port, c.port];
    let mut c = c;
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (svc, ask) = (svc.clone(), ask.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for i in 0..40 {
                    let port = ports[(w + i) % 3];
                    if let Some((201, d)) =
                        call(port, "POST", "/v1/sharing-requests", &svc, Some(&ask), &[])
                    {
                        acknowledged.push((
                            d["id"].as_str().unwrap().to_owned(),
                            d["ledger_seq"].as_i64().unwrap(),
                        ));
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    c.child.kill().unwrap();
    c.child.wait().unwrap();
    let acknowledged: Vec<(String, i64)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(
        acknowledged.len() >= 160,
        "the surviving nodes went on: {} acknowledged",
        acknowledged.len()
    );

    for (id, seq) in &acknowledged {
        let (s, d) = call(
            a.port,
            "GET",
            &format!("/v1/sharing-requests/{id}"),
            &auditor,
            None,
            &[],
        )
        .unwrap();
        assert_eq!(s, 200, "acknowledged decision {id} is kept");
        assert_eq!(d["ledger_seq"].as_i64(), Some(*seq));
    }
    let (_, v) = call(b.port, "GET", "/v1/audit/verify", &auditor, None, &[]).unwrap();
    assert_eq!(v["ok"], true, "{v}");

    // A revoke answered by A is honoured by the very next decision on B.
    let gid = grant["id"].as_str().unwrap();
    let (s, _) = call(
        a.port,
        "POST",
        &format!("/v1/grants/{gid}/revoke"),
        &bob,
        Some(&json!({})),
        &[("If-Match", "\"1\"")],
    )
    .unwrap();
    assert_eq!(s, 200);
    let (_, d) = call(
        b.port,
        "POST",
        "/v1/sharing-requests",
        &svc,
        Some(&ask),
        &[],
    )
    .unwrap();
    assert_eq!(d["outcome"], "denied", "{d}");
    assert_eq!(d["reasons"][0]["code"], "grant_revoked");

    // The killed node comes back and is one of them again.
    let c = start(&url, dir.path());
    let (_, d) = call(
        c.port,
        "POST",
        "/v1/sharing-requests",
        &svc,
        Some(&ask),
        &[],
    )
    .unwrap();
    assert_eq!(d["outcome"], "denied");
    let (_, v) = call(c.port, "GET", "/v1/audit/verify", &auditor, None, &[]).unwrap();
    assert_eq!(v["ok"], true, "{v}");
}
