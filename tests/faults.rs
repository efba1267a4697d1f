//! Storage faults: when the ledger cannot be written, changes and decisions answer 503 with
//! `Retry-After`, `/readyz` says not ready, nothing is approved, and the service recovers by
//! itself when the fault clears. The SQLite case mounts a small tmpfs and fills it, so it needs
//! root; the PostgreSQL case cuts a TCP proxy in front of the server. `.ci/run` runs them with
//! `cargo test --test faults -- --ignored`.

#[path = "api/helpers.rs"]
#[expect(
    dead_code,
    unused_macros,
    unused_imports,
    reason = "the suite uses only part of the shared harness"
)]
mod helpers;

use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::Method;
use helpers::TestApp;
use serde_json::{Value, json};

/// A tmpfs of `size`, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn new(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mounting a tmpfs needs root");
        Tmpfs { dir }
    }

    fn fill(&self) -> std::path::PathBuf {
        let path = self.dir.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A trusted party with a grant for `newsletter`; returns the request that it approves.
async fn world(app: &TestApp) -> Value {
    app.service("newsletter", &["marketing.communications"])
        .await;
    let party = app.party(json!({})).await;
    app.grant(&party, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US", "PRC"]}))
        .await;
    app.set_status(&party, "trusted").await;
    let request = json!({"party_id": party["id"], "purpose": "marketing.communications.email",
        "categories": ["user.contact.email"], "destination_country": "US", "subject_country": "US", "subject_count": 1});
    assert_eq!(
        app.share("newsletter", request.clone()).await.body["outcome"],
        "approved"
    );
    request
}

async fn ready(app: &TestApp) -> u16 {
    app.request(Method::GET, "/readyz", None, None, None)
        .await
        .status
        .as_u16()
}

/// Writes until one is refused; returns the ids of the parties acknowledged before that.
async fn write_until_refused(app: &TestApp) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for i in 0..300 {
        let r = app
            .post("/v1/parties", &app.alice(), &{
                let mut p = helpers::valid_party();
                p["legal_name"] = json!(format!("During fault {i} {}", "x".repeat(250)));
                p
            })
            .await;
        match r.status.as_u16() {
            201 => acknowledged.push(r.body["id"].as_str().unwrap().to_owned()),
            503 => {
                assert!(r.is_problem(), "{}", r.text);
                assert_eq!(r.header("retry-after").as_deref(), Some("5"));
                assert!(
                    !r.text.contains("disk") && !r.text.contains("database"),
                    "no internals: {}",
                    r.text
                );
                return acknowledged;
            }
            other => panic!("[{}] unexpected {other}: {}", app.backend, r.text),
        }
    }
    panic!("[{}] the fault never refused a write", app.backend);
}

async fn recovered(app: &TestApp, request: &Value, acknowledged: &[String]) {
    let mut status = 0;
    for _ in 0..50 {
        status = ready(app).await;
        if status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        status, 200,
        "[{}] ready again once the fault clears",
        app.backend
    );
    assert_eq!(
        app.post("/v1/parties", &app.alice(), &helpers::valid_party())
            .await
            .status,
        201
    );
    let d = app.share("newsletter", request.clone()).await;
    assert_eq!(d.status, 201);
    assert_eq!(d.body["outcome"], "approved");
    for id in acknowledged {
        assert_eq!(
            app.get(&format!("/v1/parties/{id}"), &app.auditor())
                .await
                .status,
            200,
            "acknowledged {id} kept"
        );
    }
    let v = app.get("/v1/audit/verify", &app.auditor()).await;
    assert_eq!(v.body["ok"], true, "[{}] {}", app.backend, v.text);
}

#[actix_web::test]
#[ignore = "needs root: mounts a tmpfs"]
async fn a_full_disk_refuses_writes_and_decisions_then_recovers() {
    let fs = Tmpfs::new("6m");
    let app = TestApp::spawn_custom(tempfile::tempdir_in(fs.dir.path()).unwrap(), None, None).await;
    let request = world(&app).await;
    assert_eq!(ready(&app).await, 200);
    let filler = fs.fill();
    let acknowledged = write_until_refused(&app).await;
    assert_eq!(
        ready(&app).await,
        503,
        "not ready while the ledger cannot be written"
    );
    let d = app.share("newsletter", request.clone()).await;
    assert_eq!(
        d.status, 503,
        "no decision without its ledger entry: {}",
        d.text
    );
    std::fs::remove_file(filler).unwrap();
    recovered(&app, &request, &acknowledged).await;
}

/// A TCP proxy that can cut every connection and refuse new ones.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (c, o, upstream) = (cut.clone(), open.clone(), upstream.to_owned());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if c.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut list = o.lock().unwrap();
                for s in [&client, &server] {
                    if let Ok(clone) = s.try_clone() {
                        list.push(clone);
                    }
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Proxy { port, cut, open }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[actix_web::test]
#[ignore = "needs TEST_DATABASE_URL"]
async fn postgresql_going_away_refuses_writes_and_decisions_then_recovers() {
    let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let host = base
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    let proxy = Proxy::start(&host);
    let app =
        TestApp::spawn_custom(tempfile::tempdir().unwrap(), Some(base), Some(proxy.port)).await;
    let request = world(&app).await;
    proxy.cut();
    let r = app
        .post("/v1/parties", &app.alice(), &helpers::valid_party())
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.header("retry-after").as_deref(), Some("5"));
    assert_eq!(ready(&app).await, 503);
    assert_eq!(app.share("newsletter", request.clone()).await.status, 503);
    proxy.heal();
    recovered(&app, &request, &[]).await;
}
