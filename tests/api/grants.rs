use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

fn scope() -> serde_json::Value {
    json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US", "PRC"],
        "pipia_reference": "PIPIA-1", "separate_consent": true, "legal_basis": "consent"})
}

on_each_backend! {
    async fn a_grant_is_created_read_listed_and_revoked_with_if_match(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.party(json!({})).await;
        let pid = party["id"].as_str().unwrap();
        let g = app.grant(&party, scope()).await;
        let gid = g["id"].as_str().unwrap();
        assert_eq!(g["party_id"], pid);
        assert_eq!(g["status"], "active");
        assert_eq!(g["effective"], "active");
        assert_eq!(g["created_by"], "carol", "the helper grants as carol");
        assert!(g["valid_until"].is_null());
        assert_eq!(g["pipia_reference"], "PIPIA-1");
        assert_eq!(g["separate_consent"], true);
        assert_eq!(g["transfer_mechanism"], "none");
        // docs/TRANSFERS.md "Rolling it out": the label is read-only and not evidence.
        let mut labelled = scope();
        labelled["transfer_mechanism"] = json!("pipl_standard_contract");
        let r = app.post(&format!("/v1/parties/{pid}/grants"), &app.alice(), &labelled).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["errors"][0]["field"], "transfer_mechanism");
        let got = app.get(&format!("/v1/grants/{gid}"), &app.auditor()).await;
        assert_eq!(got.status, 200);
        // Created at version 1, approved by bob at 2 (the helper's second person).
        assert_eq!(got.etag(), "\"2\"");
        assert_eq!(got.body["approved_by"], "bob");
        assert_eq!(got.body["requested_by"], "carol");
        let list = app
            .get(&format!("/v1/parties/{pid}/grants"), &app.auditor())
            .await;
        assert_eq!(
            list.body["items"].as_array().unwrap().len(),
            1,
            "[{}]",
            app.backend
        );
        assert_eq!(
            app.get("/v1/parties/nope/grants", &app.auditor())
                .await
                .status,
            404
        );

        let path = format!("/v1/grants/{gid}/revoke");
        assert_eq!(
            app.request(
                actix_web::http::Method::POST,
                &path,
                Some(&app.bob()),
                Some(&json!({"reason": "x"})),
                None
            )
            .await
            .status,
            428
        );
        assert_eq!(
            app.post_if(&path, &app.bob(), &json!({"reason": "x"}), "\"9\"")
                .await
                .status,
            412
        );
        let r = app
            .post_if(
                &path,
                &app.bob(),
                &json!({"reason": "contract ended"}),
                "\"2\"",
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["status"], "revoked");
        assert_eq!(r.body["effective"], "revoked");
        assert_eq!(r.body["revoked_reason"], "contract ended");
        assert_eq!(r.etag(), "\"3\"");
        assert_eq!(
            app.post_if(&path, &app.bob(), &json!({}), "\"3\"")
                .await
                .status,
            409
        );
        assert_eq!(
            app.post_if("/v1/grants/nope/revoke", &app.bob(), &json!({}), "\"1\"")
                .await
                .status,
            404
        );
    }
}

on_each_backend! {
    async fn grants_are_validated(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.party(json!({})).await;
        let path = format!("/v1/parties/{}/grants", party["id"].as_str().unwrap());
        let cases = vec![
            (
                json!({"service": "nope", "categories": ["user.name"], "allowed_regions": ["US"]}),
                vec!["service"],
            ),
            (
                json!({"service": "newsletter", "categories": [], "allowed_regions": ["US"]}),
                vec!["categories"],
            ),
            (
                json!({"service": "newsletter", "categories": ["user.nope"], "allowed_regions": ["US"]}),
                vec!["categories[0]"],
            ),
            (
                json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": []}),
                vec!["allowed_regions"],
            ),
            (
                json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["EU"]}),
                vec!["allowed_regions[0]"],
            ),
            (
                json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"], "transfer_mechanism": "handshake"}),
                vec!["transfer_mechanism"],
            ),
            (
                json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"],
                "valid_from": "2027-01-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"}),
                vec!["valid_until"],
            ),
            (
                json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"], "valid_from": "soon"}),
                vec!["valid_from"],
            ),
            (
                json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"], "party_id": "x"}),
                vec!["party_id"],
            ),
        ];
        for (body, fields) in cases {
            let r = app.post(&path, &app.alice(), &body).await;
            assert_eq!(r.status, 422, "[{}] {body}: {}", app.backend, r.text);
            assert_eq!(r.error_fields(), fields, "{body}");
        }
    }
}

on_each_backend! {
    async fn effective_is_computed_when_read(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.party(json!({})).await;
        let base = json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]});
        let mut future = base.clone();
        future["valid_from"] = json!("2999-01-01T00:00:00Z");
        let mut past = base.clone();
        past["valid_from"] = json!("2001-01-01T00:00:00Z");
        past["valid_until"] = json!("2002-01-01T00:00:00Z");
        assert_eq!(
            app.grant(&party, future).await["effective"],
            "not_yet_valid",
            "[{}]",
            app.backend
        );
        assert_eq!(app.grant(&party, past).await["effective"], "expired");
    }
}

on_each_backend! {
    async fn grants_as_of_show_what_a_party_was_allowed_then(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.party(json!({})).await;
        let pid = party["id"].as_str().unwrap();
        let before = vendor_registry::time::format(vendor_registry::time::now());
        std::thread::sleep(std::time::Duration::from_millis(3));
        let g = app.grant(&party, scope()).await;
        std::thread::sleep(std::time::Duration::from_millis(3));
        let granted = vendor_registry::time::format(vendor_registry::time::now());
        std::thread::sleep(std::time::Duration::from_millis(3));
        let r = app
            .post_if(
                &format!("/v1/grants/{}/revoke", g["id"].as_str().unwrap()),
                &app.bob(),
                &json!({}),
                "\"2\"",
            )
            .await;
        assert_eq!(r.status, 200);
        let at = |t: String| format!("/v1/parties/{pid}/grants?as_of={t}");
        let none = app.get(&at(before), &app.auditor()).await;
        assert_eq!(none.body["items"], json!([]), "[{}]", app.backend);
        let then = app.get(&at(granted), &app.auditor()).await;
        let items = then.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["status"], "active");
        assert_eq!(items[0]["effective"], "active");
        assert!(items[0]["as_of_ledger_seq"].as_i64().is_some());
        let now = app
            .get(&format!("/v1/parties/{pid}/grants"), &app.auditor())
            .await;
        assert_eq!(now.body["items"][0]["status"], "revoked");
        assert!(now.body["items"][0].get("as_of_ledger_seq").is_none());
    }
}
