use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

async fn all_categories(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/taxonomy/categories?limit=200&cursor={c}"),
            None => "/v1/taxonomy/categories?limit=200".to_owned(),
        };
        let r = app.get(&path, token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        items.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

on_each_backend! {
    async fn the_seeded_taxonomy_is_fideslang_plus_the_policy_with_its_marks(app: TestApp) {
        let cats = all_categories(&app, &app.token("service", "x")).await;
        assert_eq!(cats.len(), 85 + 2, "[{}]", app.backend);
        let get = |k: &str| {
            cats.iter()
                .find(|c| c["key"] == k)
                .cloned()
                .unwrap_or_else(|| panic!("{k}"))
        };
        assert_eq!(get("user.contact.email")["pii"], true);
        assert_eq!(get("user.device.cookie_id")["linkable"], true);
        assert_eq!(get("user.device.cookie_id")["pii"], false);
        assert_eq!(get("user.device.browser_type")["linkable"], true);
        assert_eq!(get("user.device.operating_system")["parent"], "user.device");
        assert_eq!(get("user.behavior.browsing_history")["linkable"], true);
        assert_eq!(get("system.operations")["pii"], false);
        assert_eq!(get("system.operations")["linkable"], false);
        let r = app
            .get("/v1/taxonomy/purposes?limit=200", &app.auditor())
            .await;
        let purposes = r.body["items"].as_array().unwrap().clone();
        assert_eq!(purposes.len(), 54 + 2);
        let sale = purposes
            .iter()
            .find(|p| p["key"] == "third_party_sharing.sale")
            .unwrap();
        assert_eq!(sale["prohibited"], true);
        let rental = purposes
            .iter()
            .find(|p| p["key"] == "third_party_sharing.rental")
            .unwrap();
        assert_eq!(rental["prohibited"], true);
    }
}

on_each_backend! {
    async fn admins_add_keys_that_inherit_and_cannot_weaken_marks(app: TestApp) {
        let admin = app.admin();
        let r = app
            .post("/v1/taxonomy/categories", &admin, &json!({"key": "user.contact.messenger", "name": "Messenger", "parent": "user.contact"}))
            .await;
        assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
        assert_eq!(r.body["pii"], true);
        let r = app
            .post("/v1/taxonomy/categories", &admin, &json!({"key": "user.contact.fax2", "name": "x", "parent": "user.contact", "pii": false}))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_fields(), vec!["pii"]);
        let r = app
            .post(
                "/v1/taxonomy/categories",
                &admin,
                &json!({"key": "user.nope.x", "name": "x", "parent": "user.nope"}),
            )
            .await;
        assert_eq!(r.status, 422, "parent must exist");
        let r = app
            .post(
                "/v1/taxonomy/categories",
                &admin,
                &json!({"key": "user.name.x", "name": "x", "parent": "user.contact"}),
            )
            .await;
        assert_eq!(r.status, 422, "key must sit under its parent");
        let r = app
            .post("/v1/taxonomy/categories", &admin, &json!({"key": "user.contact.messenger", "name": "Messenger", "parent": "user.contact"}))
            .await;
        assert_eq!(r.status, 409, "duplicate");
        let r = app
            .post("/v1/taxonomy/purposes", &admin, &json!({"key": "third_party_sharing.sale.bulk", "name": "Bulk sale", "parent": "third_party_sharing.sale"}))
            .await;
        assert_eq!(r.status, 201);
        assert_eq!(r.body["prohibited"], true);
        let r = app
            .post(
                "/v1/taxonomy/purposes",
                &app.alice(),
                &json!({"key": "x.y", "name": "x", "parent": "x"}),
            )
            .await;
        assert_eq!(r.status, 403, "procurement cannot extend the taxonomy");
    }
}
