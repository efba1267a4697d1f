//! What-if (issue "Procurement at scale", bullet 6): a simulation's flips are exactly the
//! decisions that a brute-force re-judgement finds once the same changes are really made —
//! each recorded decision evaluated again through `POST /v1/sharing-requests/evaluate`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

fn ask(party: &Value, categories: &[&str], destination: &str) -> Value {
    json!({"party_id": party["id"], "purpose": "marketing.communications.email", "categories": categories,
        "destination_country": destination, "subject_country": "US", "subject_count": 1})
}

on_each_backend! {
    async fn a_simulation_flips_exactly_what_a_brute_force_rejudgement_finds(app: TestApp) {
        app.entity("acme-us", "US").await;
        app.service_for("newsletter", &["marketing.communications"], &["acme-us"]).await;
        let a = app.party(json!({"country": "US", "data_locations": ["US"]})).await;
        let a = app.set_status(&a, "trusted").await;
        let b = app.party(json!({"country": "US", "data_locations": ["US", "DE"]})).await;
        let b = app.set_status(&b, "trusted").await;
        let email = app.grant(&a, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"]})).await;
        app.grant(&a, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
        app.grant(&b, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US", "OTHER"]})).await;

        let asks = [
            ask(&a, &["user.contact.email"], "US"),
            ask(&a, &["user.name"], "US"),
            ask(&a, &["user.contact.phone_number"], "US"),
            ask(&b, &["user.contact.email"], "US"),
            ask(&b, &["user.contact.email"], "DE"),
            ask(&a, &["user.contact.email", "user.name"], "US"),
            ask(&b, &["user.name"], "US"),
        ];
        let mut recorded = BTreeMap::new();
        for body in &asks {
            let d = app.share("newsletter", body.clone()).await;
            assert_eq!(d.status, 201, "[{}] {}", app.backend, d.text);
            recorded.insert(d.body["id"].as_str().unwrap().to_owned(), (body.clone(), d.body["outcome"].clone()));
        }
        let before = app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"].clone();

        let question = json!({"changes": [
            {"kind": "revoke_grant", "grant_id": email["id"]},
            {"kind": "set_data_locations", "party_id": b["id"], "data_locations": ["US"]},
            {"kind": "add_grant", "party_id": a["id"], "service": "newsletter",
             "categories": ["user.contact.phone_number"], "allowed_regions": ["US"]}]});
        let sim = app.post("/v1/simulations", &app.auditor(), &question).await;
        assert_eq!(sim.status, 200, "{}", sim.text);
        assert_eq!(sim.body["replayed"], 7);
        assert_eq!(sim.body["truncated"], false);
        assert_eq!(app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"], before, "nothing written");
        let simulated: BTreeMap<String, Value> = sim.body["flips"].as_array().unwrap().iter()
            .map(|f| {
                assert_eq!(f["without_changes"], f["recorded"], "nothing else moved: {f}");
                (f["decision_id"].as_str().unwrap().to_owned(), f["with_changes"].clone())
            })
            .collect();
        assert_eq!(simulated.len(), 4, "{}", sim.text);

        // The same changes, made for real; then every recorded decision judged again.
        let r = app.post_if(&format!("/v1/grants/{}/revoke", email["id"].as_str().unwrap()), &app.bob(), &json!({}),
            &format!("\"{}\"", email["version"])).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.patch_if(&format!("/v1/parties/{}", b["id"].as_str().unwrap()), &app.carol(),
            &json!({"data_locations": ["US"]}), &format!("\"{}\"", b["version"])).await;
        assert_eq!(r.status, 200, "{}", r.text);
        app.grant(&a, json!({"service": "newsletter", "categories": ["user.contact.phone_number"], "allowed_regions": ["US"]})).await;
        let mut brute = BTreeMap::new();
        for (id, (body, was)) in &recorded {
            let mut body = body.clone();
            body["service"] = json!("newsletter");
            let now = app.post("/v1/sharing-requests/evaluate", &app.admin(), &body).await;
            assert_eq!(now.status, 200, "{}", now.text);
            if now.body["outcome"] != *was {
                brute.insert(id.clone(), now.body["outcome"].clone());
            }
        }
        assert_eq!(simulated, brute, "the simulation's flips are the brute force's");
    }
}

on_each_backend! {
    async fn a_simulation_judges_its_question_first(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let r = app.post("/v1/simulations", &app.alice(),
            &json!({"changes": [{"kind": "revoke_grant", "grant_id": "nope"}]})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["changes[0].grant_id"]);
        let party = app.party(json!({})).await;
        let r = app.post("/v1/simulations", &app.alice(), &json!({"changes": [{"kind": "add_grant", "party_id": party["id"],
            "service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"], "valid_from": "soon"}]})).await;
        assert_eq!(r.error_fields(), vec!["changes[0].valid_from"], "{}", r.text);
        let r = app.post("/v1/simulations", &app.alice(), &json!({"changes": [{"kind": "add_grant", "party_id": party["id"],
            "service": "newsletter", "categories": ["user.nope"], "allowed_regions": ["US"]}]})).await;
        assert_eq!(r.error_fields(), vec!["changes[0].categories"], "{}", r.text);
        let r = app.post("/v1/simulations", &app.alice(), &json!({"changes": [{"kind": "sell_everything"}]})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        let r = app.post("/v1/simulations", &app.alice(),
            &json!({"from": "2026-12-02", "to": "2026-12-01", "changes": []})).await;
        assert_eq!(r.error_fields(), vec!["to"]);
        let r = app.post("/v1/simulations", &app.alice(), &json!({"changes": []})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["replayed"], 0);
        assert_eq!(r.body["flips"], json!([]));
        assert_eq!(app.post("/v1/simulations", &app.token("service", "newsletter"), &json!({"changes": []})).await.status, 403);
    }
}

on_each_backend! {
    async fn a_proposed_sub_processor_flips_what_making_it_real_flips(app: TestApp) {
        app.entity("acme-us", "US").await;
        app.service_for("newsletter", &["marketing.communications"], &["acme-us"]).await;
        let a = app.party(json!({"country": "US", "data_locations": ["US"]})).await;
        let a = app.set_status(&a, "trusted").await;
        let sub = app.party(json!({"legal_name": "Sub Inc", "country": "US", "data_locations": ["US"]})).await;
        app.grant(&a, json!({"service": "newsletter", "categories": ["user.contact", "user.name"], "allowed_regions": ["US"]})).await;
        let asks = [
            ask(&a, &["user.contact.email"], "US"),
            ask(&a, &["user.name"], "US"),
            ask(&a, &["user.contact.email", "user.name"], "US"),
        ];
        let mut recorded = BTreeMap::new();
        for body in &asks {
            let d = app.share("newsletter", body.clone()).await;
            assert_eq!(d.body["outcome"], "approved", "{}", d.text);
            recorded.insert(d.body["id"].as_str().unwrap().to_owned(), body.clone());
        }
        let proposed = json!({"party_id": sub["id"], "categories": ["user.contact.email"], "countries": ["US"],
            "authorised_on": "2026-01-01"});
        let sim = app.post("/v1/simulations", &app.alice(),
            &json!({"changes": [{"kind": "add_sub_processor", "party_id": a["id"], "sub_processor": proposed}]})).await;
        assert_eq!(sim.status, 200, "{}", sim.text);
        let flips: BTreeMap<String, Value> = sim.body["flips"].as_array().unwrap().iter()
            .map(|f| {
                assert_eq!(f["reasons"][0]["code"], "sub_processor_not_trusted", "{f}");
                assert_eq!(f["reasons"][0]["via"], sub["id"], "{f}");
                (f["decision_id"].as_str().unwrap().to_owned(), f["with_changes"].clone())
            })
            .collect();
        assert_eq!(flips.len(), 2, "the two shares carrying email: {}", sim.text);

        let path = format!("/v1/parties/{}/sub-processors", a["id"].as_str().unwrap());
        let current = app.get(&format!("/v1/parties/{}", a["id"].as_str().unwrap()), &app.alice()).await;
        let req = actix_web::test::TestRequest::put().uri(&path)
            .insert_header(("Authorization", format!("Bearer {}", app.carol())))
            .insert_header(("If-Match", current.etag()))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(json!({"sub_processors": [proposed]}).to_string());
        assert_eq!(app.send(req).await.status, 200);
        let mut brute = BTreeMap::new();
        for (id, body) in &recorded {
            let mut body = body.clone();
            body["service"] = json!("newsletter");
            let now = app.post("/v1/sharing-requests/evaluate", &app.admin(), &body).await;
            if now.body["outcome"] != "approved" {
                brute.insert(id.clone(), now.body["outcome"].clone());
            }
        }
        assert_eq!(flips, brute, "the simulation's flips are the brute force's");
    }
}
