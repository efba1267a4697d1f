use diesel::RunQueryDsl;
use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

on_each_backend! {
    async fn every_change_is_one_chained_entry_and_the_chain_verifies(app: TestApp) {
        let start = app.get("/v1/audit/verify", &app.auditor()).await;
        assert_eq!(start.status, 200);
        assert_eq!(
            start.body["ok"], true,
            "[{}] seeded ledger verifies",
            app.backend
        );
        let seeded = start.body["head_seq"].as_i64().unwrap();
        assert!(seeded > 100, "the seeded taxonomy is recorded");

        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.party(json!({})).await;
        app.grant(&party, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
        app.set_status(&party, "trusted").await;

        let events = app
            .get(
                &format!("/v1/audit/events?after_seq={seeded}"),
                &app.auditor(),
            )
            .await;
        let items = events.body["items"].as_array().unwrap();
        let actions: Vec<&str> = items
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            vec![
                "service.created",
                "party.created",
                "grant.created",
                "grant.approved",
                "party.status_changed"
            ]
        );
        let mut prev = items[0]["prev_hash"].as_str().unwrap().to_owned();
        for (i, e) in items.iter().enumerate() {
            assert_eq!(e["seq"].as_i64().unwrap(), seeded + 1 + i as i64);
            assert_eq!(e["prev_hash"].as_str().unwrap(), prev);
            prev = e["hash"].as_str().unwrap().to_owned();
        }
        assert_eq!(
            items[1]["actor"],
            json!({"sub": "alice", "roles": ["procurement"]})
        );
        assert_eq!(
            items[1]["subject"],
            format!("party:{}", party["id"].as_str().unwrap())
        );
        assert_eq!(items[1]["change"]["legal_name"], party["legal_name"]);
        assert_eq!(items[3]["change"]["approved_by"], "bob");
        assert_eq!(items[4]["change"]["status"], "trusted");

        let verify = app.get("/v1/audit/verify", &app.auditor()).await;
        assert_eq!(verify.body["ok"], true);
        assert_eq!(verify.body["entries"].as_i64().unwrap(), seeded + 5);
        assert_eq!(verify.body["head_hash"].as_str().unwrap(), prev);
        assert!(verify.body["first_bad_seq"].is_null());

        // The action filter is a closed set: a typo is a 422, not an empty page.
        let typo = app.get("/v1/audit/events?action=party.create", &app.auditor()).await;
        assert_eq!(typo.status, 422, "{}", typo.text);
        assert_eq!(typo.error_fields(), vec!["action"]);
        let filtered = app
            .get("/v1/audit/events?action=party.created", &app.auditor())
            .await;
        assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);
        let subject = format!(
            "/v1/audit/events?subject=party:{}",
            party["id"].as_str().unwrap()
        );
        assert_eq!(
            app.get(&subject, &app.auditor()).await.body["items"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}

on_each_backend! {
    async fn a_failed_change_writes_no_entry(app: TestApp) {
        let head = app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"]
            .as_i64()
            .unwrap();
        let r = app
            .post("/v1/parties", &app.alice(), &json!({"kind": "third_party"}))
            .await;
        assert_eq!(r.status, 422);
        let after = app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"]
            .as_i64()
            .unwrap();
        assert_eq!(head, after, "[{}]", app.backend);
    }
}

on_each_backend! {
    async fn the_database_refuses_to_update_or_delete_ledger_entries(app: TestApp) {
        let mut conn = app.state.pool.get().unwrap();
        let update =
            diesel::sql_query("UPDATE ledger SET action = 'x' WHERE seq = 1").execute(&mut *conn);
        assert!(update.is_err(), "[{}] update refused", app.backend);
        let delete = diesel::sql_query("DELETE FROM ledger WHERE seq = 1").execute(&mut *conn);
        assert!(delete.is_err(), "[{}] delete refused", app.backend);
        if app.backend == "postgres" {
            assert!(
                diesel::sql_query("TRUNCATE ledger")
                    .execute(&mut *conn)
                    .is_err(),
                "truncate refused"
            );
        }
    }
}

on_each_backend! {
    async fn tampering_below_the_triggers_is_detected_with_the_first_bad_seq(app: TestApp) {
        let mut conn = app.state.pool.get().unwrap();
        let disable = if app.backend == "postgres" {
            "ALTER TABLE ledger DISABLE TRIGGER USER"
        } else {
            "DROP TRIGGER ledger_no_update"
        };
        diesel::sql_query(disable).execute(&mut *conn).unwrap();
        diesel::sql_query("UPDATE ledger SET change = '{\"forged\":true}' WHERE seq = 7")
            .execute(&mut *conn)
            .unwrap();
        drop(conn);
        let r = app.get("/v1/audit/verify", &app.auditor()).await;
        assert_eq!(r.body["ok"], false, "[{}]", app.backend);
        assert_eq!(r.body["first_bad_seq"], 7);
    }
}

#[actix_web::test]
async fn events_paginate_and_validate_their_filters() {
    let app = TestApp::sqlite().await;
    let p1 = app.get("/v1/audit/events?limit=3", &app.auditor()).await;
    let seqs: Vec<i64> = p1.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(
            &format!("/v1/audit/events?limit=3&cursor={cursor}"),
            &app.auditor(),
        )
        .await;
    assert_eq!(p2.body["items"][0]["seq"], 4);
    assert_eq!(
        app.get("/v1/audit/events?after_seq=x", &app.auditor())
            .await
            .status,
        400
    );
    assert_eq!(
        app.get("/v1/audit/events?limit=500", &app.auditor())
            .await
            .status,
        422
    );
}

#[derive(diesel::QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// The ledger is read a page at a time by action (every decision, for the volume check of
/// `GET /v1/audit/verify`) and by subject (an object's history), in `seq` order. With an index
/// on the column alone each page scanned every entry of that action and sorted them (SQLite's
/// `seq` is not its rowid): reading all decisions was quadratic, 5,710 entries/s over 200,000
/// (`--only ledger` in the benchmark member). The plan of that page's query must be a range
/// scan of an index that ends in `seq`, with no sort.
#[actix_web::test]
async fn a_page_of_the_ledger_by_action_or_subject_is_a_range_scan_not_a_sort() {
    let app = TestApp::sqlite().await;
    let mut conn = app.state.pool.get().unwrap();
    for (column, index) in [
        ("action", "ledger_action_seq"),
        ("subject", "ledger_subject_seq"),
    ] {
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT seq FROM ledger WHERE seq > 100 AND {column} = 'x' \
             ORDER BY seq ASC LIMIT 1000"
        );
        let plan: Vec<String> = diesel::sql_query(sql)
            .load::<PlanStep>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|s| s.detail)
            .collect();
        assert!(
            plan.iter()
                .any(|s| s.contains(index) && s.contains("seq>?")),
            "{column}: {plan:?}"
        );
        assert!(
            !plan.iter().any(|s| s.contains("TEMP B-TREE")),
            "{column}: no sort: {plan:?}"
        );
    }
}
