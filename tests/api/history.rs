//! Point-in-time reads answer what the register said then, or refuse: never today's state in
//! place of the one asked about.

use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

fn stamp() -> String {
    let t = chrono::Utc::now().to_rfc3339();
    std::thread::sleep(std::time::Duration::from_millis(5));
    t.replace('+', "%2B")
}

on_each_backend! {
    async fn a_grant_and_a_service_read_as_of_an_instant_are_what_they_were(app: TestApp) {
        let before_all = stamp();
        app.service("newsletter", &["marketing.communications"]).await;
        let party = app.party(json!({})).await;
        let g = app.grant(&party, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
        let gid = g["id"].as_str().unwrap();
        let active = stamp();
        let r = app.post_if(&format!("/v1/grants/{gid}/revoke"), &app.bob(), &json!({"reason": "ended"}), "\"1\"").await;
        assert_eq!(r.status, 200);
        let then = app.get(&format!("/v1/grants/{gid}?as_of={active}"), &app.auditor()).await;
        assert_eq!(then.status, 200, "[{}] {}", app.backend, then.text);
        assert_eq!(then.body["status"], "active");
        assert_eq!(then.body["effective"], "active");
        assert!(then.body["as_of_ledger_seq"].is_i64());
        let now = app.get(&format!("/v1/grants/{gid}"), &app.auditor()).await;
        assert_eq!(now.body["status"], "revoked");
        assert_eq!(app.get(&format!("/v1/grants/{gid}?as_of={before_all}"), &app.auditor()).await.status, 404);
        assert_eq!(app.get(&format!("/v1/grants/{gid}?as_of=yesterday"), &app.auditor()).await.status, 422);

        let on = stamp();
        let r = app.patch_if("/v1/services/newsletter", &app.admin(), &json!({"active": false}), "\"1\"").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let then = app.get(&format!("/v1/services/newsletter?as_of={on}"), &app.auditor()).await;
        assert_eq!(then.status, 200, "{}", then.text);
        assert_eq!(then.body["active"], true);
        assert_eq!(app.get("/v1/services/newsletter", &app.auditor()).await.body["active"], false);
        assert_eq!(app.get(&format!("/v1/services/newsletter?as_of={before_all}"), &app.auditor()).await.status, 404);
    }
}

on_each_backend! {
    async fn the_party_list_refuses_as_of_rather_than_answer_for_today(app: TestApp) {
        let r = app.get(&format!("/v1/parties?as_of={}", stamp()), &app.auditor()).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["as_of"]);
    }
}

on_each_backend! {
    async fn an_unknown_query_parameter_is_refused_not_ignored(app: TestApp) {
        for path in ["/v1/audit/events?reason=x", "/v1/parties?actor=alice", "/v1/sharing-requests?form=2026-01-01T00:00:00Z"] {
            let r = app.get(path, &app.admin()).await;
            assert_eq!(r.status, 400, "{path}: {}", r.text);
            assert!(r.is_problem(), "{}", r.text);
            let name = path.split('?').nth(1).unwrap().split('=').next().unwrap();
            assert!(r.body["detail"].as_str().unwrap().contains(name), "names {name}: {}", r.text);
        }
        assert_eq!(app.get("/v1/audit/events?limit=1", &app.admin()).await.status, 200);
    }
}
