//! Answers people can act on (issue "Answers people can act on"): each test is one bullet of
//! what was found, failing on the API before it and passing after.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

async fn head(app: &TestApp) -> Value {
    app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"].clone()
}

/// A trusted party granted e-mail for `newsletter`, exporting from the US.
async fn world(app: &TestApp) -> Value {
    app.entity("acme-us", "US").await;
    app.service_for("newsletter", &["marketing.communications"], &["acme-us"])
        .await;
    let party = app.party(json!({})).await;
    app.grant(
        &party,
        json!({"service": "newsletter", "categories": ["user.contact.email"],
        "allowed_regions": ["US", "PRC", "OTHER"]}),
    )
    .await;
    app.set_status(&party, "trusted").await
}

fn ask(party: &Value) -> Value {
    json!({"party_id": party["id"], "purpose": "marketing.communications.email", "categories": ["user.contact.email"],
        "destination_country": "US", "subject_country": "US", "subject_count": 1})
}

on_each_backend! {
    async fn a_query_parameter_an_operation_does_not_take_is_a_400_on_every_endpoint(app: TestApp) {
        let party = world(&app).await;
        let before = head(&app).await;
        // `as_of` on the decision endpoint used to be ignored, recording a live decision.
        let r = app.post("/v1/sharing-requests?as_of=2026-01-01T00:00:00Z",
            &app.token("service", "newsletter"), &ask(&party)).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.is_problem());
        assert!(r.body["detail"].as_str().unwrap().contains("`as_of`"), "{}", r.text);
        assert_eq!(head(&app).await, before, "nothing was recorded");
        for (path, name) in [
            ("/v1/transfer-rules?version=2025", "version"),
            ("/v1/healthz?verbose=1", ""),
            ("/healthz?verbose=1", "verbose"),
            ("/v1/audit/public-key?format=pem&x=1", "format"),
        ] {
            let r = app.get(path, &app.admin()).await;
            if name.is_empty() {
                assert_eq!(r.status, 404, "{path}: no such operation");
                continue;
            }
            assert_eq!(r.status, 400, "{path}: {}", r.text);
            assert!(r.body["detail"].as_str().unwrap().contains(&format!("`{name}`")), "{path}: {}", r.text);
        }
        let patch = app.patch_if(&format!("/v1/parties/{}?reason=x", party["id"].as_str().unwrap()),
            &app.alice(), &json!({"contact_email": "a@b.example"}), &party_etag(&app, &party).await).await;
        assert_eq!(patch.status, 400, "{}", patch.text);
        // What an operation documents still passes.
        assert_eq!(app.get("/v1/parties?limit=1", &app.alice()).await.status, 200);
        assert_eq!(app.get("/v1/audit/events?limit=1&after_seq=0", &app.auditor()).await.status, 200);
    }
}

async fn party_etag(app: &TestApp, party: &Value) -> String {
    app.get(
        &format!("/v1/parties/{}", party["id"].as_str().unwrap()),
        &app.alice(),
    )
    .await
    .etag()
}

on_each_backend! {
    async fn a_malformed_if_match_is_a_400_and_a_412_names_the_current_etag(app: TestApp) {
        let party = app.party(json!({})).await;
        let path = format!("/v1/parties/{}", party["id"].as_str().unwrap());
        let body = json!({"contact_email": "new@acme.example"});
        for bad in ["1", "W/\"1\"", "\"one\"", "\"1\", 2"] {
            let r = app.patch_if(&path, &app.alice(), &body, bad).await;
            assert_eq!(r.status, 400, "If-Match: {bad}: {}", r.text);
            assert!(r.body["detail"].as_str().unwrap().contains("If-Match: \"3\""), "{}", r.text);
        }
        let stale = app.patch_if(&path, &app.alice(), &body, "\"7\"").await;
        assert_eq!(stale.status, 412);
        assert_eq!(stale.body["current_version"], 1);
        assert_eq!(stale.body["current_etag"], "\"1\"");
        assert_eq!(stale.header("etag").as_deref(), Some("\"1\""));
        // Either of two ETags may match.
        let ok = app.patch_if(&path, &app.alice(), &body, "\"7\", \"1\"").await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
}

on_each_backend! {
    async fn a_party_id_that_is_no_id_is_a_422_not_a_recorded_denial(app: TestApp) {
        let party = world(&app).await;
        let before = head(&app).await;
        let mut body = ask(&party);
        body["party_id"] = json!("acme-mail");
        let r = app.share("newsletter", body).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), ["party_id"]);
        assert_eq!(head(&app).await, before);
        // A well-formed id of no party is still a decision: party_unknown, recorded.
        let mut body = ask(&party);
        body["party_id"] = json!("0193a0c4-0000-7000-8000-000000000000");
        let r = app.share("newsletter", body).await;
        assert_eq!(r.status, 201);
        assert_eq!(r.body["reasons"][0]["code"], "party_unknown");
    }
}

on_each_backend! {
    async fn near_misses_get_a_did_you_mean_hint(app: TestApp) {
        let party = world(&app).await;
        let mut body = ask(&party);
        body["categories"] = json!(["user.email"]);
        body["purpose"] = json!("marketing.comunications.email");
        let r = app.share("newsletter", body).await;
        assert_eq!(r.status, 422, "{}", r.text);
        let messages: Vec<&str> = r.body["errors"].as_array().unwrap().iter()
            .map(|e| e["message"].as_str().unwrap()).collect();
        assert!(messages.iter().any(|m| m.contains("did you mean \"user.contact.email\"")), "{}", r.text);
        assert!(messages.iter().any(|m| m.contains("did you mean \"marketing.communications.email\"")), "{}", r.text);
        let g = app.post(&format!("/v1/parties/{}/grants", party["id"].as_str().unwrap()), &app.alice(),
            &json!({"service": "newsletter", "categories": ["user.contact.emial"], "allowed_regions": ["US"]})).await;
        assert_eq!(g.status, 422);
        assert!(g.text.contains("did you mean \\\"user.contact.email\\\""), "{}", g.text);
        for (code, hint) in [("UK", "GB"), ("USA", "US"), ("cn", "CN")] {
            let r = app.post("/v1/parties", &app.alice(),
                &json!({"kind": "third_party", "legal_name": "X", "country": code, "data_locations": ["US"],
                    "privacy_policy_url": "https://x.example/p", "contact_email": "dpo@x.example"})).await;
            assert_eq!(r.status, 422, "{code}: {}", r.text);
            assert!(r.text.contains(&format!("did you mean \\\"{hint}\\\"")), "{code}: {}", r.text);
        }
    }
}

on_each_backend! {
    async fn a_replayed_answer_says_it_is_a_replay_even_after_a_revoke(app: TestApp) {
        let party = world(&app).await;
        let send = || {
            TestRequest::post()
                .uri("/v1/sharing-requests")
                .insert_header(("Authorization", format!("Bearer {}", app.token("service", "newsletter"))))
                .insert_header(("Idempotency-Key", "k-1"))
                .set_json(ask(&party))
        };
        let first = app.send(send()).await;
        assert_eq!(first.status, 201);
        assert_eq!(first.body["outcome"], "approved");
        assert!(first.header("idempotent-replayed").is_none());
        let grants = app.get(&format!("/v1/parties/{}/grants", party["id"].as_str().unwrap()), &app.alice()).await;
        let g = &grants.body["items"][0];
        let revoked = app.post_if(&format!("/v1/grants/{}/revoke", g["id"].as_str().unwrap()), &app.bob(),
            &json!({"reason": "contract ended"}), &format!("\"{}\"", g["version"])).await;
        assert_eq!(revoked.status, 200, "{}", revoked.text);
        let replay = app.send(send()).await;
        assert_eq!(replay.status, 200);
        assert_eq!(replay.body["outcome"], "approved", "the first answer, replayed");
        assert_eq!(replay.header("idempotent-replayed").as_deref(), Some("true"));
    }
}

fn reason<'a>(r: &'a crate::helpers::Resp, code: &str) -> &'a Value {
    r.body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {}", r.text))
}

on_each_backend! {
    async fn a_denial_carries_its_evidence_and_who_can_fix_it(app: TestApp) {
        let party = world(&app).await;
        let pid = party["id"].as_str().unwrap().to_owned();
        // Scope: a purpose the service lacks, a destination the party does not declare, a
        // category not granted and one granted only narrower.
        let mut body = ask(&party);
        body["purpose"] = json!("marketing.advertising");
        body["destination_country"] = json!("JP");
        body["categories"] = json!(["user.contact.email", "user.name", "user.contact"]);
        let r = app.share("newsletter", body).await;
        assert_eq!(r.body["outcome"], "denied");
        assert_eq!(r.body["grants"], json!([]), "a denial lists no grant as if approved");
        let purpose = reason(&r, "purpose_not_declared");
        assert_eq!(purpose["evidence"]["service_purposes"], json!(["marketing.communications"]));
        assert_eq!(purpose["remedy"]["by"], "admin");
        let dest = reason(&r, "destination_not_declared");
        assert_eq!(dest["evidence"]["party_locations"], json!(["CN", "US"]));
        assert_eq!(dest["remedy"]["by"], "procurement");
        let name = reason(&r, "category_not_granted");
        assert_eq!(name["category"], "user.name");
        assert_eq!(name["evidence"]["granted_categories"], json!(["user.contact.email"]));
        assert!(name["remedy"]["action"].as_str().unwrap().contains("POST /v1/parties/{id}/grants"));
        let broad = reason(&r, "category_too_broad");
        assert_eq!(broad["evidence"]["granted_categories"], json!(["user.contact.email"]));
        assert_eq!(broad["remedy"]["by"], "service");
        // A region the grant does not allow names the grant and its regions.
        let narrow = app.party(json!({"data_locations": ["CN", "US", "SG"]})).await;
        let g = app.grant(&narrow, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
        let narrow = app.set_status(&narrow, "trusted").await;
        let mut body = ask(&narrow);
        body["categories"] = json!(["user.name"]);
        body["destination_country"] = json!("SG");
        let r = app.share("newsletter", body).await;
        let region = reason(&r, "destination_region_not_allowed");
        assert_eq!(region["evidence"]["grant_id"], g["id"]);
        assert_eq!(region["evidence"]["allowed_regions"], json!(["US"]));
        assert_eq!(region["evidence"]["destination_region"], "OTHER");
        assert!(region["evidence"]["valid_from"].is_string());
        // A suspended party says so.
        app.set_status(&party, "suspended").await;
        let r = app.share("newsletter", ask(&party)).await;
        let status = reason(&r, "party_not_trusted");
        assert_eq!(status["evidence"]["party_status"], "suspended");
        assert_eq!(status["remedy"]["by"], "procurement");
        // The ledger holds the same explained reasons.
        let e = app.get(&format!("/v1/audit/events?action=decision.recorded&after_seq={}",
            r.body["ledger_seq"].as_i64().unwrap() - 1), &app.auditor()).await;
        assert_eq!(e.body["items"][0]["change"]["reasons"], r.body["reasons"]);
        assert_eq!(app.get(&format!("/v1/parties/{pid}"), &app.alice()).await.body["status"], "suspended");
        assert_eq!(app.get("/v1/audit/verify", &app.auditor()).await.body["ok"], true);
    }
}

on_each_backend! {
    async fn an_evaluation_answers_as_a_decision_would_and_records_nothing(app: TestApp) {
        let party = world(&app).await;
        let before = head(&app).await;
        let service = app.token("service", "newsletter");
        let mut body = ask(&party);
        body["categories"] = json!(["user.contact.email", "user.name"]);
        let e = app.post("/v1/sharing-requests/evaluate", &service, &body).await;
        assert_eq!(e.status, 200, "{}", e.text);
        assert_eq!(e.body["recorded"], false);
        assert_eq!(e.body["outcome"], "denied");
        assert!(e.body.get("id").is_none() && e.body.get("ledger_seq").is_none(), "{}", e.text);
        let ok = app.post("/v1/sharing-requests/evaluate", &service, &ask(&party)).await;
        assert_eq!(ok.body["outcome"], "approved", "{}", ok.text);
        // For another service: procurement names it; a service cannot.
        let mut other = ask(&party);
        other["service"] = json!("newsletter");
        let p = app.post("/v1/sharing-requests/evaluate", &app.alice(), &other).await;
        assert_eq!(p.status, 200, "{}", p.text);
        assert_eq!(p.body["outcome"], "approved");
        assert_eq!(p.body["service"], "newsletter");
        assert_eq!(app.post("/v1/sharing-requests/evaluate", &app.alice(), &ask(&party)).await.error_fields(), ["service"]);
        other["service"] = json!("payroll");
        assert_eq!(app.post("/v1/sharing-requests/evaluate", &service, &other).await.status, 403);
        let mut unknown = ask(&party);
        unknown["categories"] = json!(["user.email"]);
        assert_eq!(app.post("/v1/sharing-requests/evaluate", &service, &unknown).await.status, 422);
        // Nothing was written and nothing counted: the next decision is the ledger's next entry.
        assert_eq!(head(&app).await, before);
        assert_eq!(app.get("/v1/sharing-requests", &app.auditor()).await.body["items"], json!([]));
        let d = app.share("newsletter", body).await;
        assert_eq!(d.body["outcome"], e.body["outcome"]);
        assert_eq!(d.body["reasons"], e.body["reasons"], "the same engine, the same reasons");
        assert_eq!(d.body["ledger_seq"].as_i64(), before.as_i64().map(|s| s + 1));
    }
}

on_each_backend! {
    async fn a_service_reads_its_own_service_and_grants_and_only_its_own(app: TestApp) {
        let party = world(&app).await;
        app.service("billing", &["marketing.communications"]).await;
        let billing = app.grant(&party, json!({"service": "billing", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
        let old = app.grant(&party, json!({"service": "newsletter", "categories": ["user.contact"], "allowed_regions": ["US"],
            "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2021-01-01T00:00:00Z"})).await;
        let svc = app.token("service", "newsletter");

        let mine = app.get("/v1/grants", &svc).await;
        assert_eq!(mine.status, 200, "[{}] {}", app.backend, mine.text);
        let items = mine.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{}", mine.text);
        assert!(items.iter().all(|g| g["service"] == "newsletter"));
        assert_eq!(items[0]["party"]["status"], "trusted");
        assert_eq!(items[0]["party"]["id"], party["id"]);
        assert!(items[0]["party"]["data_locations"].is_array());
        assert_eq!(app.get("/v1/grants?service=billing", &svc).await.status, 403);
        assert_eq!(app.get("/v1/services/newsletter", &svc).await.status, 200);
        assert_eq!(app.get("/v1/services/billing", &svc).await.status, 403);

        let ids = |path: &'static str| {
            let app = &app;
            async move {
                let r = app.get(path, &app.alice()).await;
                assert_eq!(r.status, 200, "{path}: {}", r.text);
                r.body["items"].as_array().unwrap().iter().map(|g| g["id"].clone()).collect::<Vec<_>>()
            }
        };
        assert_eq!(ids("/v1/grants?service=billing").await, vec![billing["id"].clone()]);
        assert_eq!(ids("/v1/grants?effective=expired").await, vec![old["id"].clone()]);
        assert!(!ids("/v1/grants?effective=active").await.contains(&old["id"]));
        // A granted key covers its descendants, not its ancestors.
        let email = ids("/v1/grants?category=user.contact.email").await;
        assert_eq!(email.len(), 2, "the e-mail grant and the older user.contact one");
        assert_eq!(ids("/v1/grants?category=user.contact").await, vec![old["id"].clone()]);
        // expires_before: strictly before, on both sides of the instant.
        assert!(ids("/v1/grants?expires_before=2021-01-01T00:00:00Z").await.is_empty());
        assert_eq!(ids("/v1/grants?expires_before=2021-01-01T00:00:00.000001Z").await, vec![old["id"].clone()]);
        assert!(ids("/v1/grants?expires_before=2021-01-01").await.is_empty());
        assert_eq!(ids("/v1/grants?expires_before=2021-01-02").await, vec![old["id"].clone()]);
        let pid = party["id"].as_str().unwrap();
        let r = app.get(&format!("/v1/grants?party_id={pid}&limit=1"), &app.alice()).await;
        assert!(r.body["next_cursor"].is_string(), "{}", r.text);
        let r = app.get("/v1/grants?effective=lapsed", &app.alice()).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["effective"]);
    }
}

// Controls with gaps (#15): once a party is trusted, what widens what it receives is not for its
// registrant alone, and a suspension is lifted by someone other than who imposed it.
on_each_backend! {
    async fn four_eyes_hold_after_trust_for_grants_locations_and_suspensions(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let party = app.party(json!({})).await;
        let id = party["id"].as_str().unwrap().to_owned();
        let scope = json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]});
        // Before trust the registrant may grant: the review that trusts the party sees it.
        let before = app.post(&format!("/v1/parties/{id}/grants"), &app.alice(), &scope).await;
        assert_eq!(before.status, 201, "[{}] {}", app.backend, before.text);
        let trusted = app.set_status(&party, "trusted").await;

        let alone = app.post(&format!("/v1/parties/{id}/grants"), &app.alice(), &scope).await;
        assert_eq!(alone.status, 403, "{}", alone.text);
        assert!(alone.is_problem());
        assert!(alone.body["detail"].as_str().unwrap().contains("Four eyes"), "{}", alone.text);
        assert_eq!(app.post(&format!("/v1/parties/{id}/grants"), &app.carol(), &scope).await.status, 201);

        // Adding a processing country is widening; dropping one is not.
        let etag = format!("\"{}\"", trusted["version"]);
        let added = app.patch_if(&format!("/v1/parties/{id}"), &app.alice(), &json!({"data_locations": ["CN", "US", "SG"]}), &etag).await;
        assert_eq!(added.status, 403, "{}", added.text);
        let dropped = app.patch_if(&format!("/v1/parties/{id}"), &app.alice(), &json!({"data_locations": ["US"]}), &etag).await;
        assert_eq!(dropped.status, 200, "{}", dropped.text);
        assert_eq!(dropped.body["status"], "trusted", "dropping a country is not material");
        let by_other = app.patch_if(&format!("/v1/parties/{id}"), &app.carol(), &json!({"data_locations": ["US", "SG"]}),
            &dropped.etag()).await;
        assert_eq!(by_other.status, 200, "{}", by_other.text);
        // A material change sends a trusted party back to review, and who made it does not
        // trust it again alone (#15 "Four eyes where it matters").
        assert_eq!(by_other.body["status"], "pending_review", "{}", by_other.text);
        assert_eq!(by_other.body["status_changed_by"], "carol");
        assert!(by_other.body["status_reason"].as_str().unwrap().contains("data_locations"), "{}", by_other.text);
        let again = app.post_if(&format!("/v1/parties/{id}/status"), &app.carol(), &json!({"status": "trusted"}),
            &by_other.etag()).await;
        assert_eq!(again.status, 403, "{}", again.text);
        let trusted = app.set_status(&party, "trusted").await;
        assert_eq!(trusted["status_changed_by"], "bob");

        // bob suspends; neither bob nor the registrant lifts it; carol does.
        let suspended = app.set_status(&party, "suspended").await;
        for who in [app.bob(), app.alice()] {
            let r = app.post_if(&format!("/v1/parties/{id}/status"), &who, &json!({"status": "trusted"}),
                &format!("\"{}\"", suspended["version"])).await;
            assert_eq!(r.status, 403, "{}", r.text);
        }
        assert_eq!(app.set_status_as(&party, "trusted", &app.carol()).await["status"], "trusted");
    }
}

on_each_backend! {
    async fn every_field_error_of_a_body_is_reported_at_once_with_bounds_in_words(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let r = app.post("/v1/parties", &app.alice(), &json!({"country": "US"})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        let fields = r.error_fields();
        for f in ["kind", "legal_name", "data_locations"] {
            assert!(fields.contains(&f.to_owned()), "{f} missing from {}", r.text);
        }
        let party = app.party(json!({})).await;
        let r = app.post(&format!("/v1/parties/{}/grants", party["id"].as_str().unwrap()), &app.alice(),
            &json!({"categories": [], "allowed_regions": ["EU"]})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        let errors: Vec<(String, String)> = r.body["errors"].as_array().unwrap().iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["message"].as_str().unwrap().to_owned())).collect();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert!(fields.contains(&"service"), "{}", r.text);
        assert!(fields.contains(&"allowed_regions[0]"), "{}", r.text);
        let categories = errors.iter().find(|(f, _)| f == "categories").unwrap_or_else(|| panic!("{}", r.text));
        assert_eq!(categories.1, "must have 1 to 200 items");
        // A well-formed body still answers its one error.
        let r = app.post(&format!("/v1/parties/{}/grants", party["id"].as_str().unwrap()), &app.alice(),
            &json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["EU"]})).await;
        assert_eq!(r.error_fields(), vec!["allowed_regions[0]"], "{}", r.text);
    }
}

on_each_backend! {
    async fn a_sharing_request_reports_its_unknown_keys_with_its_other_errors_and_its_bounds(app: TestApp) {
        let party = world(&app).await;
        let service = app.token("service", "newsletter");
        // Before, the body's errors came first and the unknown keys only once they were fixed;
        // a count out of bounds said "is invalid (range)".
        let body = json!({"party_id": party["id"], "purpose": "marketing.communications.emial",
            "categories": ["user.contact.email", "user.email"], "destination_country": "UK",
            "subject_country": "US", "subject_count": 0});
        for path in ["/v1/sharing-requests", "/v1/sharing-requests/evaluate"] {
            let r = app.post(path, &service, &body).await;
            assert_eq!(r.status, 422, "{path}: {}", r.text);
            assert_eq!(r.error_fields(), ["categories[1]", "destination_country", "purpose", "subject_count"],
                "{path}: {}", r.text);
            let message = |f: &str| r.body["errors"].as_array().unwrap().iter()
                .find(|e| e["field"] == f).unwrap()["message"].as_str().unwrap().to_owned();
            assert!(message("categories[1]").contains("did you mean \"user.contact.email\""), "{}", r.text);
            assert!(message("purpose").contains("did you mean \"marketing.communications.email\""), "{}", r.text);
            assert_eq!(message("subject_count"), "must be from 1 to 1000000000");
        }
        // Nothing was recorded.
        assert_eq!(app.get("/v1/sharing-requests", &app.auditor()).await.body["items"], json!([]));
    }
}
