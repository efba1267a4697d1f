//! A node whose ledger no longer matches what it signed stops: it signs nothing, takes no
//! writes, reports not ready and raises the alarm metric, answering a documented problem type
//! (ledger issue: before, a refusal to sign was a bare 500 and the node kept writing); proofs
//! are built from the entries' content, never from a stored hash alone; and no new entry takes
//! a `seq` a checkpoint has signed.

use serde_json::json;

use crate::audit_trust::{checkpoint, h, rechain, rewrite, some_changes, verify};
use crate::helpers::{Resp, TestApp, on_each_backend};

fn is_integrity_problem(r: &Resp) -> bool {
    r.status == 503
        && r.is_problem()
        && r.body["type"] == "urn:vendor-registry:problem:ledger-integrity"
}

async fn metric(app: &TestApp, name: &str) -> String {
    let text = app.get("/metrics", "").await.text;
    text.lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .map(|l| l[name.len() + 1..].to_owned())
        .unwrap_or_default()
}

async fn assert_stopped(app: &TestApp) {
    let r = app
        .post(
            "/v1/services",
            &app.admin(),
            &json!({"key": "after", "name": "after", "purposes": ["marketing"]}),
        )
        .await;
    assert!(
        is_integrity_problem(&r),
        "[{}] a write is refused: {}",
        app.backend,
        r.text
    );
    assert!(
        !r.text.contains("refusing"),
        "the cause is logged, not returned"
    );
    let ask = json!({"party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "purpose": "marketing",
        "categories": ["user.contact.email"], "destination_country": "US", "subject_country": "US", "subject_count": 1});
    let r = app.share("newsletter", ask).await;
    assert!(
        is_integrity_problem(&r),
        "[{}] a decision is refused: {}",
        app.backend,
        r.text
    );
    assert_eq!(app.get("/readyz", "").await.status, 503, "not ready");
    assert_eq!(
        metric(app, "vendor_registry_ledger_integrity_ok").await,
        "0"
    );
    assert_ne!(
        metric(app, "vendor_registry_ledger_integrity_failures_total").await,
        "0"
    );
}

on_each_backend! {
    async fn a_node_refuses_to_sign_over_a_rewritten_history_and_stops_writing(app: TestApp) {
        checkpoint(&app).await;
        assert_eq!(metric(&app, "vendor_registry_ledger_integrity_ok").await, "1");
        rewrite(&app, |rows| {
            rows[3].change = r#"{"forged":true}"#.into();
            rechain(rows, 3, true);
        });
        // Nothing has checked the ledger yet, so one more write goes through; the next
        // checkpoint reads it and finds what it chains on altered.
        some_changes(&app, 1).await;
        let r = app.get("/v1/audit/checkpoint", &app.auditor()).await;
        assert!(is_integrity_problem(&r), "[{}] {}", app.backend, r.text);
        assert_stopped(&app).await;
    }
}

on_each_backend! {
    async fn no_entry_takes_a_seq_a_checkpoint_has_signed_after_the_tail_is_cut(app: TestApp) {
        some_changes(&app, 3).await;
        let cp = checkpoint(&app).await;
        rewrite(&app, |rows| rows.truncate(rows.len() - 2));
        // The very next write, before any check has run, would reuse seq cp.size - 1.
        let r = app
            .post(
                "/v1/services",
                &app.admin(),
                &json!({"key": "reuse", "name": "reuse", "purposes": ["marketing"]}),
            )
            .await;
        assert!(is_integrity_problem(&r), "[{}] {}", app.backend, r.text);
        let v = verify(&app).await;
        assert_eq!(v["ok"], false);
        assert_eq!(v["first_bad_seq"], cp.size - 1, "[{}] {v}", app.backend);
        assert_stopped(&app).await;
    }
}

on_each_backend! {
    async fn a_corrupted_stored_leaf_hash_is_caught_and_never_served_in_a_proof(app: TestApp) {
        some_changes(&app, 2).await;
        let cp = checkpoint(&app).await;
        rewrite(&app, |rows| rows[4].leaf_hash = "00".repeat(32));
        let v = verify(&app).await;
        assert_eq!(v["ok"], false, "[{}] verification reads the column too: {v}", app.backend);
        assert_eq!(v["first_bad_seq"], 5, "[{}] {v}", app.backend);
        // Proofs come from the tiles and the entry's own content (ledger issue: they used to
        // come from this column, and refused once it was corrupted): the column is not served.
        let r = app
            .get(&format!("/v1/audit/proof/5?size={}", cp.size), &app.auditor())
            .await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
        let entry = {
            let mut conn = app.state.pool.get().unwrap();
            vendor_registry::ledger::store::entry_at(&mut conn, 5).unwrap().unwrap()
        };
        let content = vendor_registry::ledger::chain::leaf_bytes(&entry).unwrap();
        let leaf = vendor_registry::ledger::merkle::leaf_hash(&content);
        assert_eq!(r.body["leaf_hash"], hex::encode(leaf), "[{}] {}", app.backend, r.text);
        assert_ne!(r.body["leaf_hash"], "00".repeat(32));
        let path: Vec<[u8; 32]> = r.body["audit_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| h(p.as_str().unwrap()))
            .collect();
        let root = h(&cp.root_hash);
        assert!(vendor_registry::ledger::merkle::verify_inclusion(4, cp.size as u64, &leaf, &path, &root));
    }
}

on_each_backend! {
    async fn a_restored_ledger_lets_the_node_sign_and_write_again(app: TestApp) {
        checkpoint(&app).await;
        let mut saved = Vec::new();
        rewrite(&app, |rows| {
            saved = rows.clone();
            rows[2].change = r#"{"forged":true}"#.into();
        });
        // Signing reads only what is new since the last check; the whole-log check finds an
        // old entry altered, and stops the node as a refusal to sign does.
        assert_eq!(verify(&app).await["first_bad_seq"], 3);
        assert_stopped(&app).await;
        rewrite(&app, |rows| *rows = saved);
        assert_eq!(verify(&app).await["ok"], true);
        assert_eq!(app.get("/readyz", "").await.status, 200);
        assert_eq!(metric(&app, "vendor_registry_ledger_integrity_ok").await, "1");
        app.service("after", &["marketing"]).await;
        let r = app.get("/v1/audit/checkpoint", &app.auditor()).await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
    }
}

on_each_backend! {
    async fn a_checkpoint_is_signed_at_least_every_n_entries_on_the_write_path(app: TestApp) {
        // No timer runs in process: only the write path can have signed these.
        let app = TestApp::spawn_configured(tempfile::tempdir().unwrap(), app.pg_base(), None, |c| {
            c.checkpoint_every_entries = 5;
        })
        .await;
        app.service("newsletter", &["marketing.communications"]).await;
        let party = app.party(json!({})).await;
        let ask = json!({"party_id": party["id"], "purpose": "marketing.communications.email",
            "categories": ["user.contact.email"], "destination_country": "US", "subject_country": "US", "subject_count": 1});
        for i in 0..12 {
            if i % 2 == 0 {
                app.party(json!({"legal_name": format!("Vendor {i}")})).await;
            } else {
                assert_eq!(app.share("newsletter", ask.clone()).await.status, 201);
            }
            let head = app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"]
                .as_i64()
                .unwrap();
            let list = app.get("/v1/audit/checkpoints?limit=200", &app.auditor()).await;
            let signed = list.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["size"].as_i64().unwrap())
                .max()
                .unwrap_or(0);
            assert!(head - signed < 5, "[{}] head {head}, signed {signed}", app.backend);
        }
    }
}

on_each_backend! {
    async fn a_broken_chain_reports_its_real_head_and_the_exact_first_bad_entry(app: TestApp) {
        some_changes(&app, 2).await;
        let before = verify(&app).await;
        let head = before["head_seq"].as_i64().unwrap();
        rewrite(&app, |rows| rows[19].change = r#"{"forged":true}"#.into());
        let v = verify(&app).await;
        assert_eq!(v["ok"], false);
        assert_eq!(v["first_bad_seq"], 20, "[{}] {v}", app.backend);
        assert_eq!(v["head_seq"], head, "[{}] the head, not the last good entry: {v}", app.backend);
        assert_eq!(v["head_hash"], before["head_hash"]);
    }
}
