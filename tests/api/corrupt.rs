//! Stored values that do not parse are errors, never defaults: a read answers 500 (saying
//! nothing of the cause), a streamed export breaks off instead of skipping or nulling the row.

use diesel::RunQueryDsl;
use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

fn corrupt(app: &TestApp, sql: &str) {
    let mut conn = app.state.pool.get().unwrap();
    assert_eq!(
        diesel::sql_query(sql).execute(&mut *conn).unwrap(),
        1,
        "{sql}"
    );
}

on_each_backend! {
    async fn a_party_whose_stored_status_does_not_parse_is_a_500_not_pending_review(app: TestApp) {
        let party = app.party(json!({})).await;
        let id = party["id"].as_str().unwrap();
        corrupt(&app, &format!("UPDATE parties SET status = 'bogus' WHERE id = '{id}'"));
        let r = app.get(&format!("/v1/parties/{id}"), &app.auditor()).await;
        assert_eq!(r.status, 500, "[{}] {}", app.backend, r.text);
        assert!(r.is_problem());
        assert!(!r.text.contains("bogus"), "the cause is logged, not answered: {}", r.text);
        let list = app.get("/v1/parties", &app.auditor()).await;
        assert_eq!(list.status, 500, "[{}] the list does not hide the row", app.backend);
        for path in ["/v1/exports/register.json", "/v1/exports/register.csv"] {
            let r = app.get(path, &app.auditor()).await;
            assert_eq!(r.status, 200, "{path}: the stream had started");
            assert!(!r.complete, "[{}] {path} breaks off: {}", app.backend, r.text);
            assert!(!r.text.contains(id), "{path} does not report the party as something else");
        }
    }
}

on_each_backend! {
    async fn a_grant_whose_stored_regions_do_not_parse_is_a_500(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let party = app.party(json!({})).await;
        let g = app
            .grant(&party, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"]}))
            .await;
        let gid = g["id"].as_str().unwrap();
        corrupt(&app, &format!("UPDATE grants SET allowed_regions = '[\"MARS\"]' WHERE id = '{gid}'"));
        let r = app.get(&format!("/v1/grants/{gid}"), &app.auditor()).await;
        assert_eq!(r.status, 500, "[{}] {}", app.backend, r.text);
        assert!(r.is_problem());
    }
}

on_each_backend! {
    async fn a_stored_decision_that_does_not_parse_breaks_the_csv_off(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let party = app.party(json!({})).await;
        let ask = json!({"party_id": party["id"], "purpose": "marketing.communications.email",
            "categories": ["user.contact.email"], "destination_country": "US", "subject_country": "US", "subject_count": 1});
        let first = app.share("newsletter", ask.clone()).await;
        let second = app.share("newsletter", ask).await;
        assert_eq!(second.status, 201);
        let id = first.body["id"].as_str().unwrap();
        corrupt(&app, &format!("UPDATE sharing_requests SET body = 'not json' WHERE id = '{id}'"));
        let r = app.get("/v1/exports/decisions.csv", &app.auditor()).await;
        assert!(!r.complete, "[{}] the export breaks off: {}", app.backend, r.text);
        let list = app.get("/v1/sharing-requests", &app.auditor()).await;
        assert_eq!(list.status, 500, "[{}] the list does not null the row", app.backend);
    }
}
