//! Three `vendor-registry serve` processes on one PostgreSQL, as operators run them: a revoke
//! on one is honoured by the next decision on the others, concurrent decisions on all three
//! form one verifiable chain, and a node killed with -9 loses nothing it acknowledged while the
//! others go on. Needs TEST_DATABASE_URL; `.ci/run` runs it with `--ignored`.

mod common;

use std::time::Duration;

use common::{call, start, token};
use serde_json::json;
use vendor_registry_test_support::Database;

#[test]
#[ignore = "needs TEST_DATABASE_URL; starts three server processes"]
fn three_nodes_on_one_postgresql_behave_as_one_service() {
    let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let db = Database::create(&base, "vr_nodes");
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
    // A grant is relied on once a second person approves it.
    let gid = grant["id"].as_str().unwrap().to_owned();
    let (s, _) = call(
        c.port,
        "POST",
        &format!("/v1/grants/{gid}/approve"),
        &bob,
        None,
        &[("If-Match", "\"1\"")],
    )
    .unwrap();
    assert_eq!(s, 200);
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
        "destination_country": "US", "subject_country": "US", "subject_count": 1});
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
    let (s, _) = call(
        a.port,
        "POST",
        &format!("/v1/grants/{gid}/revoke"),
        &bob,
        Some(&json!({})),
        &[("If-Match", "\"2\"")],
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
