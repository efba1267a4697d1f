use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

on_each_backend! {
    async fn admins_register_read_and_update_services_with_if_match(app: TestApp) {
        let admin = app.admin();
        let r = app
            .post("/v1/services", &admin, &json!({"key": "investor-relations", "name": "IR", "purposes": ["essential.service.notifications"]}))
            .await;
        assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
        assert_eq!(
            r.header("location").as_deref(),
            Some("/v1/services/investor-relations")
        );
        assert_eq!(r.body["active"], true);
        assert_eq!(r.body["version"], 1);

        let got = app
            .get("/v1/services/investor-relations", &app.alice())
            .await;
        assert_eq!(got.status, 200);
        assert_eq!(got.etag(), "\"1\"");

        let path = "/v1/services/investor-relations";
        let no_if_match = app
            .request(
                actix_web::http::Method::PATCH,
                path,
                Some(&admin),
                Some(&json!({"active": false})),
                None,
            )
            .await;
        assert_eq!(no_if_match.status, 428);
        assert_eq!(
            app.patch_if(path, &admin, &json!({"active": false}), "\"7\"")
                .await
                .status,
            412
        );
        assert_eq!(
            app.patch_if(path, &admin, &json!({"active": false}), "*")
                .await
                .status,
            428
        );
        let r = app
            .patch_if(path, &admin, &json!({"active": false}), "\"1\"")
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["active"], false);
        assert_eq!(r.etag(), "\"2\"");

        assert_eq!(
            app.patch_if(path, &admin, &json!({"purposes": ["no.such"]}), "\"2\"")
                .await
                .status,
            422
        );
        assert_eq!(
            app.patch_if("/v1/services/missing", &admin, &json!({}), "\"1\"")
                .await
                .status,
            404
        );
        assert_eq!(
            app.patch_if(path, &app.alice(), &json!({}), "\"2\"")
                .await
                .status,
            403
        );
    }
}

on_each_backend! {
    async fn service_creation_validates_keys_purposes_and_duplicates(app: TestApp) {
        let admin = app.admin();
        let r = app
            .post(
                "/v1/services",
                &admin,
                &json!({"key": "Bad Key", "name": "x", "purposes": ["marketing"]}),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_fields(), vec!["key"]);
        let r = app
            .post(
                "/v1/services",
                &admin,
                &json!({"key": "ok", "name": "x", "purposes": []}),
            )
            .await;
        assert_eq!(r.error_fields(), vec!["purposes"]);
        let r = app
            .post(
                "/v1/services",
                &admin,
                &json!({"key": "ok", "name": "x", "purposes": ["marketing", "nope"]}),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_fields(), vec!["purposes[1]"]);
        app.service("ok", &["marketing"]).await;
        let r = app
            .post(
                "/v1/services",
                &admin,
                &json!({"key": "ok", "name": "x", "purposes": ["marketing"]}),
            )
            .await;
        assert_eq!(r.status, 409);
        let list = app.get("/v1/services?active=true", &app.auditor()).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    }
}
