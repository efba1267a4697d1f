//! Several nodes on one database behave as one service.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

async fn world(app: &TestApp) -> (Value, Value) {
    app.service("newsletter", &["marketing.communications"])
        .await;
    let party = app.party(json!({})).await;
    let grant = app
        .grant(&party, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"]}))
        .await;
    let party = app.set_status(&party, "trusted").await;
    let ask = json!({"party_id": party["id"], "purpose": "marketing.communications.email",
        "categories": ["user.contact.email"], "destination_country": "US", "subject_country": "US", "subject_count": 1});
    (ask, grant)
}

on_each_backend! {
    async fn a_revoke_on_one_node_is_honoured_by_the_next_decision_on_every_other(a: TestApp) {
        let (b, c) = (a.node().await, a.node().await);
        let (ask, grant) = world(&a).await;
        for n in [&a, &b, &c] {
            assert_eq!(
                n.share("newsletter", ask.clone()).await.body["outcome"],
                "approved",
                "[{}]",
                a.backend
            );
        }
        let gid = grant["id"].as_str().unwrap();
        let r = a
            .post_if(
                &format!("/v1/grants/{gid}/revoke"),
                &a.bob(),
                &json!({"reason": "ended"}),
                "\"2\"",
            )
            .await;
        assert_eq!(r.status, 200);
        for n in [&b, &c, &a] {
            let d = n.share("newsletter", ask.clone()).await;
            assert_eq!(d.body["outcome"], "denied", "[{}] {}", a.backend, d.text);
            assert_eq!(d.body["reasons"][0]["code"], "grant_revoked");
        }
    }
}

on_each_backend! {
    async fn concurrent_decisions_and_changes_on_three_nodes_form_one_chain(a: TestApp) {
        let nodes = [a.node().await, a.node().await];
        let all = [&a, &nodes[0], &nodes[1]];
        let (ask, _) = world(&a).await;
        let party = json!({"id": ask["party_id"]});
        let decisions = (0..45).map(|i| all[i % 3].share("newsletter", ask.clone()));
        let changes = (0..9).map(|i| {
            all[i % 3].grant(&party, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]}))
        });
        let (decided, _) = futures_util::future::join(join_all(decisions), join_all(changes)).await;
        for d in &decided {
            assert_eq!(d.status, 201, "[{}] {}", a.backend, d.text);
            assert_eq!(d.body["outcome"], "approved");
        }
        let v = a.get("/v1/audit/verify", &a.auditor()).await;
        assert_eq!(v.body["ok"], true, "[{}] {}", a.backend, v.text);
        let mut seqs = Vec::new();
        let mut prevs = HashSet::new();
        let mut after = 0;
        loop {
            let page = a
                .get(
                    &format!("/v1/audit/events?after_seq={after}&limit=200"),
                    &a.auditor(),
                )
                .await;
            let items = page.body["items"].as_array().unwrap().clone();
            if items.is_empty() {
                break;
            }
            for e in &items {
                seqs.push(e["seq"].as_i64().unwrap());
                assert!(
                    prevs.insert(e["prev_hash"].as_str().unwrap().to_owned()),
                    "no two entries share a prev_hash"
                );
            }
            after = *seqs.last().unwrap();
        }
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gaps");
        let recorded: HashSet<i64> = decided
            .iter()
            .map(|d| d.body["ledger_seq"].as_i64().unwrap())
            .collect();
        assert_eq!(recorded.len(), 45, "every decision has its own entry");
    }
}

/// PostgreSQL only: SQLite has one node by construction, and nothing to follow.
#[actix_web::test]
#[cfg_attr(
    not(test_postgres),
    ignore = "needs TEST_DATABASE_URL: LISTEN/NOTIFY is PostgreSQL's"
)]
async fn a_node_follows_register_changes_made_elsewhere_without_deciding() {
    let a = TestApp::postgres().await;
    let b = a.node().await;
    let database_url = b.config.database_url.clone().unwrap();
    let (pool, slot) = (b.state.pool.clone(), b.state.snapshot.clone());
    std::thread::spawn(move || {
        vendor_registry::decision::follow::follow(&database_url, pool, slot)
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = b.state.snapshot.read().unwrap().revision;
    a.service("newsletter", &["marketing.communications"]).await;
    let head = a.get("/v1/audit/verify", &a.auditor()).await.body["head_seq"]
        .as_i64()
        .unwrap();
    let mut seen = before;
    for _ in 0..100 {
        seen = b.state.snapshot.read().unwrap().revision;
        if seen == head {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(head > before);
    assert_eq!(seen, head, "node B's snapshot followed node A's change");
    assert!(
        b.state
            .snapshot
            .read()
            .unwrap()
            .services
            .contains_key("newsletter")
    );
}

on_each_backend! {
    async fn three_nodes_count_every_approval_once_and_never_judge_on_a_stale_counter(a: TestApp) {
        // docs/TRANSFERS.md "Volumes": each share of 10,000 PRC subjects is exempt until the
        // exporter's counter reaches 100,000 with it; a grant with no agreement then fails. So
        // of 30 concurrent shares on three nodes exactly 9 are approved, and the counter is
        // exactly 90,000: a lost increment would approve a tenth, a stale read more.
        let nodes = [a.node().await, a.node().await];
        let all = [&a, &nodes[0], &nodes[1]];
        a.entity("acme-cn", "CN").await;
        a.service_for("newsletter", &["marketing.communications"], &["acme-cn"]).await;
        let party = a.party(json!({"country": "SG", "data_locations": ["SG"]})).await;
        a.grant(&party, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["OTHER"],
            "pipia_reference": "PIPIA-1", "separate_consent": true})).await;
        let party = a.set_status(&party, "trusted").await;
        let ask = json!({"party_id": party["id"], "purpose": "marketing.communications.email",
            "categories": ["user.contact.email"], "destination_country": "SG", "subject_country": "CN", "subject_count": 10_000});
        let decided = join_all((0..30).map(|i| all[i % 3].share("newsletter", ask.clone()))).await;
        let mut approved = 0;
        for d in &decided {
            assert_eq!(d.status, 201, "[{}] {}", a.backend, d.text);
            if d.body["outcome"] == "approved" {
                approved += 1;
                let c = &d.body["regimes"][0]["counters"][0];
                assert!(c["with_share"].as_i64().unwrap() < 100_000, "{}", d.text);
            } else {
                assert_eq!(d.body["reasons"][0]["code"], "transfer_mechanism_missing", "{}", d.text);
            }
        }
        assert_eq!(approved, 9, "[{}]", a.backend);
        for n in all {
            let v = n.get("/v1/transfer-volumes?exporter=acme-cn", &n.auditor()).await;
            assert_eq!(v.body["items"][0]["count"], 90_000, "[{}] {}", a.backend, v.text);
        }
        // Each approval recorded the counter before it and with it: the nine form one sequence.
        let mut befores: Vec<i64> = decided
            .iter()
            .filter(|d| d.body["outcome"] == "approved")
            .map(|d| d.body["regimes"][0]["counters"][0]["before"].as_i64().unwrap())
            .collect();
        befores.sort();
        assert_eq!(befores, (0..9).map(|i| i * 10_000).collect::<Vec<_>>());
    }
}
