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
        let r = app.post_if(&format!("/v1/grants/{gid}/revoke"), &app.bob(), &json!({"reason": "ended"}), "\"2\"").await;
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

// The party list used to refuse `as_of` (422); #15 makes every history read honour it, the list
// included, with the filters applied to the parties as they were.
on_each_backend! {
    async fn the_party_list_as_of_an_instant_filters_the_parties_as_they_were(app: TestApp) {
        let before_all = stamp();
        let alpha = app.party(json!({"legal_name": "Alpha Analytics"})).await;
        let one = stamp();
        let beta = app.party(json!({"legal_name": "Beta Mail"})).await;
        app.set_status(&alpha, "trusted").await;
        let ids = |r: &crate::helpers::Resp| -> Vec<String> {
            r.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
        };
        let (a, b) = (alpha["id"].as_str().unwrap().to_owned(), beta["id"].as_str().unwrap().to_owned());

        let then = app.get(&format!("/v1/parties?status=pending_review&as_of={one}"), &app.auditor()).await;
        assert_eq!(then.status, 200, "[{}] {}", app.backend, then.text);
        assert_eq!(ids(&then), vec![a.clone()], "Beta did not exist yet; Alpha was pending then");
        assert!(then.body["items"][0]["as_of_ledger_seq"].is_i64());
        let now = app.get("/v1/parties?status=pending_review", &app.auditor()).await;
        assert_eq!(ids(&now), vec![b.clone()], "today Alpha is trusted");
        let trusted_then = app.get(&format!("/v1/parties?status=trusted&as_of={one}"), &app.auditor()).await;
        assert!(ids(&trusted_then).is_empty(), "{}", trusted_then.text);
        let named = app.get(&format!("/v1/parties?q=alpha&as_of={}", stamp()), &app.auditor()).await;
        assert_eq!(ids(&named), vec![a.clone()]);
        assert!(ids(&app.get(&format!("/v1/parties?as_of={before_all}"), &app.auditor()).await).is_empty());

        // Paging walks the state as it was, one party at a time.
        let at = stamp();
        let first = app.get(&format!("/v1/parties?limit=1&as_of={at}"), &app.auditor()).await;
        assert_eq!(first.body["items"].as_array().unwrap().len(), 1);
        let cursor = first.body["next_cursor"].as_str().expect("a second page").to_owned();
        let second = app.get(&format!("/v1/parties?limit=1&as_of={at}&cursor={cursor}"), &app.auditor()).await;
        let mut all = [ids(&first), ids(&second)].concat();
        all.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(all, want);
        assert!(second.body["next_cursor"].is_null());
    }
}

on_each_backend! {
    async fn a_bare_date_as_of_means_the_end_of_that_day_utc(app: TestApp) {
        let party = app.party(json!({})).await;
        let id = party["id"].as_str().unwrap();
        let today = chrono::Utc::now().date_naive();
        let yesterday = today.pred_opt().unwrap();
        let r = app.get(&format!("/v1/parties/{id}?as_of={today}"), &app.auditor()).await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
        assert_eq!(r.body["id"], party["id"]);
        assert_eq!(app.get(&format!("/v1/parties/{id}?as_of={yesterday}"), &app.auditor()).await.status, 404);
        let listed = app.get(&format!("/v1/parties?as_of={today}"), &app.auditor()).await;
        assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.text);
        for bad in ["2026-02-30", "2026-6-1", "20260601"] {
            let r = app.get(&format!("/v1/parties/{id}?as_of={bad}"), &app.auditor()).await;
            assert_eq!(r.status, 422, "{bad}: {}", r.text);
            assert_eq!(r.error_fields(), vec!["as_of"]);
        }
    }
}

on_each_backend! {
    async fn a_taxonomy_key_reads_as_it_was_recorded(app: TestApp) {
        let before = stamp();
        let r = app.post("/v1/taxonomy/categories", &app.admin(),
            &json!({"key": "user.contact.pager", "name": "Pager", "description": "A pager number.", "parent": "user.contact"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let after = stamp();
        let then = app.get(&format!("/v1/taxonomy/categories/user.contact.pager?as_of={after}"), &app.auditor()).await;
        assert_eq!(then.status, 200, "[{}] {}", app.backend, then.text);
        assert_eq!(then.body["name"], "Pager");
        assert!(then.body["as_of_ledger_seq"].is_i64());
        assert_eq!(app.get(&format!("/v1/taxonomy/categories/user.contact.pager?as_of={before}"), &app.auditor()).await.status, 404);
        let seeded = app.get(&format!("/v1/taxonomy/purposes/marketing?as_of={after}"), &app.auditor()).await;
        assert_eq!(seeded.status, 200, "{}", seeded.text);
        assert_eq!(seeded.body["key"], "marketing");
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

on_each_backend! {
    async fn the_service_list_as_of_an_instant_is_what_it_was(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let first = stamp();
        app.service("crm", &["marketing"]).await;
        let r = app.patch_if("/v1/services/newsletter", &app.admin(), &json!({"active": false}), "\"1\"").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let keys = |r: &crate::helpers::Resp| -> Vec<(String, bool)> {
            r.body["items"].as_array().unwrap_or_else(|| panic!("{}", r.text)).iter()
                .map(|s| (s["key"].as_str().unwrap().to_owned(), s["active"].as_bool().unwrap())).collect()
        };
        let then = app.get(&format!("/v1/services?as_of={first}"), &app.auditor()).await;
        assert_eq!(then.status, 200, "[{}] {}", app.backend, then.text);
        assert_eq!(keys(&then), vec![("newsletter".to_owned(), true)]);
        assert!(then.body["items"][0]["as_of_ledger_seq"].is_i64());
        let active_then = app.get(&format!("/v1/services?as_of={first}&active=false"), &app.auditor()).await;
        assert_eq!(keys(&active_then), vec![], "inactive then: none");
        let now = app.get("/v1/services", &app.auditor()).await;
        assert_eq!(keys(&now), vec![("crm".to_owned(), true), ("newsletter".to_owned(), false)]);
        let before = app.get("/v1/services?as_of=2001-01-01", &app.auditor()).await;
        assert_eq!(keys(&before), vec![]);
        let paged = app.get(&format!("/v1/services?as_of={}&limit=1", stamp()), &app.auditor()).await;
        assert_eq!(keys(&paged), vec![("crm".to_owned(), true)]);
        assert!(paged.body["next_cursor"].is_string());
        let bad = app.get("/v1/services?as_of=yesterday", &app.auditor()).await;
        assert_eq!(bad.error_fields(), vec!["as_of"]);
    }
}

on_each_backend! {
    async fn the_taxonomy_lists_as_of_an_instant_leave_out_later_keys(app: TestApp) {
        let before = stamp();
        let r = app.post("/v1/taxonomy/categories", &app.admin(), &json!({"key": "user.contact.messenger_handle",
            "name": "Messenger handle", "description": "A handle.", "parent": "user.contact"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = app.post("/v1/taxonomy/purposes", &app.admin(), &json!({"key": "marketing.communications.pigeon",
            "name": "Pigeon post", "description": "By bird.", "parent": "marketing.communications"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let all = |path: String| {
            let app = &app;
            async move {
                let mut keys = Vec::new();
                let mut next = path.clone();
                loop {
                    let r = app.get(&next, &app.auditor()).await;
                    assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
                    for i in r.body["items"].as_array().unwrap() {
                        keys.push(i["key"].as_str().unwrap().to_owned());
                    }
                    match r.body["next_cursor"].as_str() {
                        Some(c) => next = format!("{path}&cursor={c}"),
                        None => return keys,
                    }
                }
            }
        };
        let then = all(format!("/v1/taxonomy/categories?as_of={before}&limit=200")).await;
        let now = all("/v1/taxonomy/categories?limit=200".to_owned()).await;
        assert_eq!(now.len(), then.len() + 1, "every key then, paged through, and the one added since");
        assert!(!then.contains(&"user.contact.messenger_handle".to_owned()));
        assert!(now.contains(&"user.contact.messenger_handle".to_owned()));
        let purposes_then = all(format!("/v1/taxonomy/purposes?as_of={before}&limit=200")).await;
        let purposes_now = all("/v1/taxonomy/purposes?limit=200".to_owned()).await;
        assert_eq!(purposes_now.len(), purposes_then.len() + 1);
        let one = app.get(&format!("/v1/taxonomy/categories?as_of={before}&limit=1"), &app.auditor()).await;
        assert!(one.body["items"][0]["as_of_ledger_seq"].is_i64(), "{}", one.text);
        assert_eq!(app.get("/v1/taxonomy/purposes?as_of=2001-01-01", &app.auditor()).await.body["items"], json!([]));
    }
}
