use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend, valid_party};

on_each_backend! {
    async fn registering_a_party_starts_it_pending_review_with_derived_region(app: TestApp) {
        let r = app.post("/v1/parties", &app.alice(), &valid_party()).await;
        assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.header("location"), Some(format!("/v1/parties/{id}")));
        assert_eq!(r.etag(), "\"1\"");
        assert_eq!(r.body["status"], "pending_review");
        assert_eq!(r.body["region"], "PRC");
        assert_eq!(r.body["risk_tier"], "medium");
        assert_eq!(r.body["created_by"], "alice");
        let us = app.party(json!({"country": "US"})).await;
        assert_eq!(us["region"], "US");
        let de = app
            .party(json!({"country": "DE", "kind": "affiliate"}))
            .await;
        assert_eq!(de["region"], "OTHER");
        let got = app.get(&format!("/v1/parties/{id}"), &app.auditor()).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body, r.body);
        assert_eq!(
            app.get("/v1/parties/nope", &app.auditor()).await.status,
            404
        );
    }
}

on_each_backend! {
    async fn invalid_parties_get_a_422_naming_every_bad_field(app: TestApp) {
        let mut body = valid_party();
        body["country"] = json!("XX");
        body["data_locations"] = json!([]);
        body["privacy_policy_url"] = json!("http://acme.example/privacy");
        body["contact_email"] = json!("not-an-email");
        body["next_review_due"] = json!("2027-02-30");
        let r = app.post("/v1/parties", &app.alice(), &body).await;
        assert_eq!(r.status, 422, "[{}]", app.backend);
        assert!(r.is_problem());
        assert_eq!(
            r.error_fields(),
            vec![
                "contact_email",
                "country",
                "data_locations",
                "next_review_due",
                "privacy_policy_url"
            ]
        );
        let mut body = valid_party();
        body.as_object_mut().unwrap().remove("legal_name");
        let r = app.post("/v1/parties", &app.alice(), &body).await;
        assert_eq!(r.error_fields(), vec!["legal_name"]);
        let mut body = valid_party();
        body["data_locations"] = json!(["CN", "cn"]);
        let r = app.post("/v1/parties", &app.alice(), &body).await;
        assert_eq!(r.error_fields(), vec!["data_locations"]);
        let mut body = valid_party();
        body["kind"] = json!("vendor");
        assert_eq!(
            app.post("/v1/parties", &app.alice(), &body)
                .await
                .error_fields(),
            vec!["kind"]
        );
    }
}

on_each_backend! {
    async fn server_owned_and_unknown_fields_are_rejected(app: TestApp) {
        for field in [
            "id",
            "status",
            "version",
            "region",
            "created_by",
            "status_reason",
            "created_at",
            "updated_at",
            "colour",
        ] {
            let mut body = valid_party();
            body[field] = json!("x");
            let r = app.post("/v1/parties", &app.alice(), &body).await;
            assert_eq!(r.status, 422, "[{}] {field}", app.backend);
            assert_eq!(r.error_fields(), vec![field]);
        }
        let party = app.party(json!({})).await;
        let id = party["id"].as_str().unwrap();
        let r = app
            .patch_if(
                &format!("/v1/parties/{id}"),
                &app.alice(),
                &json!({"status": "trusted"}),
                "\"1\"",
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_fields(), vec!["status"]);
    }
}

on_each_backend! {
    async fn patch_updates_fields_recomputes_region_and_clears_with_null(app: TestApp) {
        let party = app.party(json!({"contract_reference": "MSA-1"})).await;
        let path = format!("/v1/parties/{}", party["id"].as_str().unwrap());
        let r = app
            .patch_if(
                &path,
                &app.bob(),
                &json!({"country": "US", "contract_reference": null, "risk_tier": "high"}),
                "\"1\"",
            )
            .await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
        assert_eq!(r.body["region"], "US");
        assert_eq!(r.body["contract_reference"], json!(null));
        assert_eq!(r.body["risk_tier"], "high");
        assert_eq!(r.body["legal_name"], party["legal_name"]);
        assert_eq!(r.etag(), "\"2\"");
        let stale = app
            .patch_if(&path, &app.bob(), &json!({"risk_tier": "low"}), "\"1\"")
            .await;
        assert_eq!(stale.status, 412);
        let bad = app
            .patch_if(&path, &app.bob(), &json!({"country": "usa"}), "\"2\"")
            .await;
        assert_eq!(bad.status, 422);
        let missing = app
            .request(
                Method::PATCH,
                &path,
                Some(&app.bob()),
                Some(&json!({})),
                None,
            )
            .await;
        assert_eq!(missing.status, 428);
    }
}

on_each_backend! {
    async fn the_lifecycle_allows_only_its_transitions_with_four_eyes(app: TestApp) {
        let party = app.party(json!({})).await;
        let id = party["id"].as_str().unwrap();
        let path = format!("/v1/parties/{id}/status");
        let own = app
            .post_if(&path, &app.alice(), &json!({"status": "trusted"}), "\"1\"")
            .await;
        assert_eq!(
            own.status, 403,
            "[{}] the registrant cannot trust: {}",
            app.backend, own.text
        );
        let suspend = app
            .post_if(&path, &app.bob(), &json!({"status": "suspended"}), "\"1\"")
            .await;
        assert_eq!(suspend.status, 409, "pending_review cannot be suspended");
        let trusted = app
            .post_if(
                &path,
                &app.bob(),
                &json!({"status": "trusted", "reason": "DD ok"}),
                "\"1\"",
            )
            .await;
        assert_eq!(trusted.status, 200);
        assert_eq!(trusted.body["status"], "trusted");
        assert_eq!(trusted.body["status_reason"], "DD ok");
        assert_eq!(trusted.etag(), "\"2\"");
        assert_eq!(
            app.post_if(&path, &app.bob(), &json!({"status": "trusted"}), "\"2\"")
                .await
                .status,
            409
        );
        let s = app
            .post_if(
                &path,
                &app.alice(),
                &json!({"status": "suspended"}),
                "\"2\"",
            )
            .await;
        assert_eq!(s.status, 200);
        let back = app
            .post_if(&path, &app.bob(), &json!({"status": "trusted"}), "\"3\"")
            .await;
        assert_eq!(back.status, 200, "suspended -> trusted");
        let off = app
            .post_if(
                &path,
                &app.alice(),
                &json!({"status": "offboarded", "reason": "ended"}),
                "\"4\"",
            )
            .await;
        assert_eq!(off.status, 200);
        for to in ["trusted", "suspended", "pending_review", "offboarded"] {
            let r = app
                .post_if(&path, &app.bob(), &json!({"status": to}), "\"5\"")
                .await;
            assert_eq!(r.status, 409, "offboarded is final ({to})");
        }
        let r = app
            .post_if(&path, &app.bob(), &json!({"status": "gone"}), "\"5\"")
            .await;
        assert_eq!(r.status, 422);
        let r = app
            .patch_if(
                &format!("/v1/parties/{id}"),
                &app.bob(),
                &json!({"risk_tier": "low"}),
                "\"5\"",
            )
            .await;
        assert_eq!(r.status, 409, "an offboarded party cannot be edited");
    }
}

on_each_backend! {
    async fn offboarding_revokes_every_active_grant_and_records_each(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.set_status(&app.party(json!({})).await, "trusted").await;
        let g1 = app.grant(&party, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"]})).await;
        let g2 = app.grant(&party, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
        let id = party["id"].as_str().unwrap();
        let before = app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"]
            .as_i64()
            .unwrap();
        app.set_status(&party, "offboarded").await;
        for g in [&g1, &g2] {
            let r = app
                .get(
                    &format!("/v1/grants/{}", g["id"].as_str().unwrap()),
                    &app.auditor(),
                )
                .await;
            assert_eq!(r.body["status"], "revoked", "[{}]", app.backend);
            assert_eq!(r.body["effective"], "revoked");
            assert_eq!(r.body["revoked_reason"], "party offboarded");
        }
        let events = app
            .get(
                &format!("/v1/audit/events?after_seq={before}"),
                &app.auditor(),
            )
            .await;
        let actions: Vec<&str> = events.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            vec!["party.status_changed", "grant.revoked", "grant.revoked"]
        );
        let r = app.post(&format!("/v1/parties/{id}/grants"), &app.alice(), &json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
        assert_eq!(r.status, 409, "no new grants for an offboarded party");
    }
}

on_each_backend! {
    async fn lists_filter_and_paginate_with_cursors(app: TestApp) {
        let a = app
            .party(json!({"legal_name": "Alpha 100% Data", "country": "US"}))
            .await;
        let b = app
            .party(
                json!({"legal_name": "Beta", "kind": "affiliate", "next_review_due": "2027-01-01"}),
            )
            .await;
        let c = app
            .party(json!({"legal_name": "Gamma", "next_review_due": "2028-01-01"}))
            .await;
        app.set_status(&c, "trusted").await;
        let t = app.auditor();
        let ids = |r: &crate::helpers::Resp| -> Vec<String> {
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let id = |p: &serde_json::Value| p["id"].as_str().unwrap().to_owned();
        assert_eq!(
            ids(&app.get("/v1/parties", &t).await),
            vec![id(&a), id(&b), id(&c)],
            "[{}]",
            app.backend
        );
        assert_eq!(
            ids(&app.get("/v1/parties?region=US", &t).await),
            vec![id(&a)]
        );
        assert_eq!(
            ids(&app.get("/v1/parties?kind=affiliate", &t).await),
            vec![id(&b)]
        );
        assert_eq!(
            ids(&app.get("/v1/parties?status=trusted", &t).await),
            vec![id(&c)]
        );
        assert_eq!(ids(&app.get("/v1/parties?q=ALPHA", &t).await), vec![id(&a)]);
        assert_eq!(
            ids(&app.get("/v1/parties?q=100%25", &t).await),
            vec![id(&a)]
        );
        assert_eq!(
            ids(&app.get("/v1/parties?q=_", &t).await),
            Vec::<String>::new(),
            "LIKE wildcards are literal"
        );
        assert_eq!(
            ids(&app
                .get("/v1/parties?review_due_before=2027-06-01", &t)
                .await),
            vec![id(&b)]
        );
        let p1 = app.get("/v1/parties?limit=2", &t).await;
        assert_eq!(ids(&p1), vec![id(&a), id(&b)]);
        let cursor = p1.body["next_cursor"].as_str().unwrap();
        let p2 = app
            .get(&format!("/v1/parties?limit=2&cursor={cursor}"), &t)
            .await;
        assert_eq!(ids(&p2), vec![id(&c)]);
        assert!(p2.body["next_cursor"].is_null());
        for bad in [
            "limit=0",
            "limit=201",
            "cursor=zzz",
            "region=EU",
            "status=nice",
            "kind=x",
            "review_due_before=tomorrow",
        ] {
            let r = app.get(&format!("/v1/parties?{bad}"), &t).await;
            assert_eq!(r.status, 422, "{bad}");
        }
        assert_eq!(app.get("/v1/parties?limit=ten", &t).await.status, 400);
    }
}

on_each_backend! {
    async fn as_of_answers_what_the_register_said_then(app: TestApp) {
        let party = app.party(json!({"legal_name": "Before"})).await;
        let id = party["id"].as_str().unwrap();
        let between = vendor_registry::time::format(vendor_registry::time::now());
        std::thread::sleep(std::time::Duration::from_millis(5));
        let r = app
            .patch_if(
                &format!("/v1/parties/{id}"),
                &app.alice(),
                &json!({"legal_name": "After"}),
                "\"1\"",
            )
            .await;
        assert_eq!(r.status, 200);
        let then = app
            .get(&format!("/v1/parties/{id}?as_of={between}"), &app.auditor())
            .await;
        assert_eq!(then.status, 200, "[{}] {}", app.backend, then.text);
        assert_eq!(then.body["legal_name"], "Before");
        let seq = then.body["as_of_ledger_seq"]
            .as_i64()
            .expect("the entry behind the answer");
        let entry = app
            .get(
                &format!("/v1/audit/events?after_seq={}&limit=1", seq - 1),
                &app.auditor(),
            )
            .await;
        assert_eq!(entry.body["items"][0]["action"], "party.created");
        assert_eq!(entry.body["items"][0]["change"]["legal_name"], "Before");
        let now = app.get(&format!("/v1/parties/{id}"), &app.auditor()).await;
        assert_eq!(now.body["legal_name"], "After");
        let before_creation = app
            .get(
                &format!("/v1/parties/{id}?as_of=2000-01-01T00:00:00Z"),
                &app.auditor(),
            )
            .await;
        assert_eq!(before_creation.status, 404);
        assert_eq!(
            app.get(&format!("/v1/parties/{id}?as_of=yesterday"), &app.auditor())
                .await
                .status,
            422
        );
    }
}

// Procurement at scale (#17, "Reminders"): what falls due within a window, on both sides of its
// last day.
on_each_backend! {
    async fn reminders_list_what_falls_due_within_the_window_and_nothing_after(app: TestApp) {
        let today = chrono::Utc::now().date_naive();
        let day = |n: i64| (today + chrono::Duration::days(n)).format("%Y-%m-%d").to_string();
        let instant = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
        app.entity("acme-us", "US").await;
        app.service("newsletter", &["marketing.communications"]).await;
        let a = app.party(json!({"legal_name": "Soon Ltd", "next_review_due": day(10), "dpf_certified_until": day(-1)})).await;
        let b = app.party(json!({"legal_name": "Later Ltd", "next_review_due": day(40)})).await;
        let soon = app.grant(&a, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"],
            "valid_until": instant(5)})).await;
        let later = app.grant(&a, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"],
            "valid_until": instant(40)})).await;
        let dpa = app.post(&format!("/v1/parties/{}/agreements", a["id"].as_str().unwrap()), &app.alice(),
            &json!({"exporter": "acme-us", "kind": "dpa", "reference": "DPA-9", "valid_from": "2026-01-01T00:00:00Z",
                "valid_until": instant(20)})).await;
        assert_eq!(dpa.status, 201, "{}", dpa.text);
        let kinds = |r: &crate::helpers::Resp| -> Vec<(String, String)> {
            r.body["items"].as_array().unwrap().iter()
                .map(|i| (i["kind"].as_str().unwrap().to_owned(), i["object_id"].as_str().unwrap_or(i["party_id"].as_str().unwrap()).to_owned()))
                .collect()
        };
        let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
        let r = app.get("/v1/reminders?within_days=30", &app.alice()).await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
        assert_eq!(kinds(&r), vec![
            ("dpf_lapsing".to_owned(), id(&a)),
            ("grant_expiring".to_owned(), id(&soon)),
            ("review_due".to_owned(), id(&a)),
            ("agreement_expiring".to_owned(), id(&dpa.body)),
        ], "{}", r.text);
        assert_eq!(r.body["items"][0]["overdue"], true);
        assert_eq!(r.body["items"][0]["party_name"], "Soon Ltd");
        assert_eq!(r.body["items"][1]["service"], "newsletter");
        // The window's last day is in; the day before it ends, the review is not.
        let on_the_day = kinds(&app.get("/v1/reminders?within_days=10", &app.alice()).await);
        assert!(on_the_day.contains(&("review_due".to_owned(), id(&a))), "{on_the_day:?}");
        let before = kinds(&app.get("/v1/reminders?within_days=9", &app.alice()).await);
        assert!(!before.contains(&("review_due".to_owned(), id(&a))), "{before:?}");
        // A grant expiring in five days is in a five-day window, not a four-day one.
        assert!(kinds(&app.get("/v1/reminders?within_days=5", &app.alice()).await).contains(&("grant_expiring".to_owned(), id(&soon))));
        assert!(!kinds(&app.get("/v1/reminders?within_days=4", &app.alice()).await).contains(&("grant_expiring".to_owned(), id(&soon))));
        let wide = kinds(&app.get("/v1/reminders?within_days=45", &app.alice()).await);
        assert!(wide.contains(&("review_due".to_owned(), id(&b))) && wide.contains(&("grant_expiring".to_owned(), id(&later))), "{wide:?}");
        for bad in ["-1", "367", "soon"] {
            let r = app.get(&format!("/v1/reminders?within_days={bad}"), &app.alice()).await;
            assert!(r.status == 422 || r.status == 400, "{bad}: {}", r.text);
            assert!(r.is_problem());
        }
    }
}

// Reviews by risk-tier cadence (#17 bullet 5): a trusted party without a `next_review_due` falls
// due its tier's cadence after it was trusted — high 182 days, medium 365, low 730 — tested on
// both sides of each day that can be reached (the window is at most 366 days).
on_each_backend! {
    async fn reviews_fall_due_by_risk_tier_cadence_when_no_date_is_set(app: TestApp) {
        let high = app.party(json!({"legal_name": "High Ltd", "risk_tier": "high"})).await;
        let medium = app.party(json!({"legal_name": "Medium Ltd", "risk_tier": "medium"})).await;
        let low = app.party(json!({"legal_name": "Low Ltd", "risk_tier": "low"})).await;
        let dated = app.party(json!({"legal_name": "Dated Ltd", "risk_tier": "high", "next_review_due": "2099-01-01"})).await;
        // Never trusted: no review falls due.
        app.party(json!({"legal_name": "Waiting Ltd", "risk_tier": "high"})).await;
        for p in [&high, &medium, &low, &dated] {
            app.set_status(p, "trusted").await;
        }
        let due = |days: i64| {
            let app = &app;
            async move {
                let r = app.get(&format!("/v1/reminders?within_days={days}"), &app.alice()).await;
                assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
                r.body["items"].as_array().unwrap().iter()
                    .filter(|i| i["kind"] == "review_due")
                    .map(|i| (i["party_name"].as_str().unwrap().to_owned(), i["basis"].as_str().unwrap_or("").to_owned()))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(due(181).await, vec![]);
        let at = due(182).await;
        assert_eq!(at.len(), 1, "{at:?}");
        assert_eq!(at[0].0, "High Ltd");
        assert!(at[0].1.starts_with("risk_tier high: every 182 days since trusted on "), "{at:?}");
        let names: Vec<String> = due(364).await.into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["High Ltd"]);
        let names: Vec<String> = due(365).await.into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["High Ltd", "Medium Ltd"], "low (730 days), the dated one and the untrusted one are not due");
    }
}
