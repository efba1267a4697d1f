//! Legal demands (docs/DISCLOSURES.md "Legal-process requests"): the PRC and GDPR Art. 48
//! gates, recorded before the answer; the lifecycle with its override; the transparency report
//! that never counts national-security process exactly.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

pub fn counsel(app: &TestApp) -> String {
    app.token("legal", "counsel")
}

pub fn ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339()
}

/// A demand from a US court for data stored in CN; `extra` overrides fields.
fn demand(extra: Value) -> Value {
    let mut body = json!({"authority_name": "U.S. District Court", "authority_country": "US",
        "authority_kind": "court", "instrument": "subpoena", "reference": "CASE-1",
        "received_at": "2026-11-30T09:00:00Z", "data_stored_in": ["CN"], "categories": ["user.contact.email"],
        "subject_count": 3});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

async fn file(app: &TestApp, body: Value) -> Value {
    let r = app.post("/v1/legal-requests", &counsel(app), &body).await;
    assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
    r.body
}

fn codes(r: &Value) -> Vec<&str> {
    r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect()
}

/// The ledger entry at `seq`, read as an auditor.
async fn entry(app: &TestApp, seq: i64) -> Value {
    let r = app
        .get(
            &format!("/v1/audit/events?after_seq={}&limit=1", seq - 1),
            &app.auditor(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"][0].clone()
}

async fn move_to(app: &TestApp, token: &str, r: &Value, body: Value) -> crate::helpers::Resp {
    let id = r["id"].as_str().unwrap();
    let current = app
        .get(&format!("/v1/legal-requests/{id}"), &counsel(app))
        .await;
    app.post_if(
        &format!("/v1/legal-requests/{id}/status"),
        token,
        &body,
        &current.etag(),
    )
    .await
}

on_each_backend! {
    async fn prc_stored_data_for_a_us_court_is_denied_without_approval_and_recorded(app: TestApp) {
        let denied = file(&app, demand(json!({}))).await;
        assert_eq!(denied["outcome"], "denied");
        assert_eq!(denied["status"], "denied");
        assert_eq!(codes(&denied), ["prc_approval_missing"]);
        assert_eq!(denied["reasons"][0]["rule"], "PIPL Art. 41; DSL Art. 36");
        // Recorded before the answer: the entry the answer names holds this very judgement.
        let e = entry(&app, denied["decision_ledger_seq"].as_i64().unwrap()).await;
        assert_eq!(e["action"], "legal_request.decided");
        assert_eq!(e["subject"], format!("legal_request:{}", denied["id"].as_str().unwrap()));
        assert_eq!(e["change"]["outcome"], "denied");
        assert_eq!(e["change"]["reasons"], denied["reasons"]);
        let approved = file(&app, demand(json!({"approval_reference": "MOJ-2026-17"}))).await;
        assert_eq!(approved["outcome"], "approved");
        assert!(codes(&approved).is_empty());
        // A Hong Kong court is a foreign one for PRC-stored data; a PRC court is not.
        let hk = file(&app, demand(json!({"authority_country": "HK"}))).await;
        assert_eq!(codes(&hk), ["prc_approval_missing"]);
        let cn = file(&app, demand(json!({"authority_country": "CN"}))).await;
        assert_eq!(cn["outcome"], "approved");
        // The register's checks apply: unknown categories and exporters are a 422, not a decision.
        let bad = app.post("/v1/legal-requests", &counsel(&app),
            &demand(json!({"categories": ["user.nope"], "exporter": "ghost"}))).await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        let r = app.get("/v1/legal-requests?limit=200", &app.auditor()).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 4);
    }
}

on_each_backend! {
    async fn eea_data_for_a_us_agency_needs_an_agreement_or_another_chapter_v_ground(app: TestApp) {
        app.entity("acme-de", "DE").await;
        let agency = json!({"authority_name": "U.S. agency", "authority_kind": "law_enforcement",
            "instrument": "warrant", "data_stored_in": ["DE"], "data_origin_country": "FR"});
        let denied = file(&app, demand(agency.clone())).await;
        assert_eq!(codes(&denied), ["international_agreement_missing"]);
        assert_eq!(denied["reasons"][0]["rule"], "GDPR Art. 48");
        let mut ground = agency.clone();
        ground["chapter_v_ground"] = json!("art49_1_e");
        assert_eq!(file(&app, demand(ground)).await["outcome"], "approved");
        let mut mlat = agency.clone();
        mlat["instrument"] = json!("mlat");
        assert_eq!(file(&app, demand(mlat)).await["outcome"], "approved");
        // An EEA exporter alone brings Art. 48 in, whatever the origin.
        let mut exporter = agency.clone();
        exporter["data_origin_country"] = json!("SG");
        exporter["exporter"] = json!("acme-de");
        assert_eq!(codes(&file(&app, demand(exporter)).await), ["international_agreement_missing"]);
        // An authority inside the EEA is not foreign to it.
        let mut domestic = agency;
        domestic["authority_country"] = json!("NL");
        assert_eq!(file(&app, demand(domestic)).await["outcome"], "approved");
    }
}

on_each_backend! {
    async fn a_legal_request_moves_only_along_its_lifecycle_and_an_override_needs_four_eyes(app: TestApp) {
        let approved = file(&app, demand(json!({"approval_reference": "MOJ-1",
            "categories": ["user.contact.email", "user.name"]}))).await;
        let id = approved["id"].as_str().unwrap();
        // Not a move from approved: 409; a stale ETag: 412.
        let r = move_to(&app, &counsel(&app), &approved, json!({"status": "subjects_notified", "notified_at": ago(1)})).await;
        assert_eq!(r.status, 409, "{}", r.text);
        let stale = app.post_if(&format!("/v1/legal-requests/{id}/status"), &counsel(&app),
            &json!({"status": "closed"}), "\"99\"").await;
        assert_eq!(stale.status, 412);
        // Disclosed categories must be the request's own; both missing fields at once.
        let r = move_to(&app, &counsel(&app), &approved, json!({"status": "disclosed"})).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_fields(), ["disclosed_at", "disclosed_categories"]);
        let r = move_to(&app, &counsel(&app), &approved, json!({"status": "disclosed",
            "disclosed_at": ago(1), "disclosed_categories": ["user.financial"]})).await;
        assert_eq!(r.error_fields(), ["disclosed_categories[0]"]);
        let r = move_to(&app, &counsel(&app), &approved, json!({"status": "disclosed",
            "disclosed_at": ago(1), "disclosed_categories": ["user.name"], "disclosed_subject_count": 2})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = move_to(&app, &counsel(&app), &approved, json!({"status": "notification_delayed",
            "delayed_until": "2027-06-01T00:00:00Z", "order_reference": "GAG-1"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = move_to(&app, &counsel(&app), &approved, json!({"status": "subjects_notified", "notified_at": ago(0)})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["status"], "subjects_notified");

        // Against a denial: disclosing needs an override reason, then another principal.
        let denied = file(&app, demand(json!({}))).await;
        let did = denied["id"].as_str().unwrap();
        let r = move_to(&app, &counsel(&app), &denied, json!({"status": "disclosed",
            "disclosed_at": ago(1), "disclosed_categories": ["user.contact.email"]})).await;
        assert_eq!(r.status, 409, "{}", r.text);
        let r = move_to(&app, &counsel(&app), &denied, json!({"status": "disclosed",
            "disclosed_at": ago(1), "disclosed_categories": ["user.contact.email"],
            "override_reason": "Court order with contempt sanctions; PRC approval pending."})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["override"]["by"], "counsel");
        assert!(r.body["override"]["confirmed_by"].is_null());
        let blocked = move_to(&app, &counsel(&app), &denied, json!({"status": "subjects_notified", "notified_at": ago(0)})).await;
        assert_eq!(blocked.status, 409, "{}", blocked.text);
        let confirm = format!("/v1/legal-requests/{did}/confirm-override");
        let same = app.post_if(&confirm, &counsel(&app), &json!({}), &r.etag()).await;
        assert_eq!(same.status, 403, "{}", same.text);
        let other = app.post_if(&confirm, &app.token("legal", "second-counsel"), &json!({}), &r.etag()).await;
        assert_eq!(other.status, 200, "{}", other.text);
        assert_eq!(other.body["override"]["confirmed_by"], "second-counsel");
        let events = app.get(&format!("/v1/audit/events?subject=legal_request:{did}"), &app.auditor()).await;
        let actions: Vec<&str> = events.body["items"].as_array().unwrap().iter()
            .map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["legal_request.decided", "legal_request.status_changed", "legal_request.override_confirmed"]);

        // A contest is upheld only by evidence that passes the gates.
        let contested = file(&app, demand(json!({"reference": "CASE-2"}))).await;
        assert_eq!(move_to(&app, &counsel(&app), &contested, json!({"status": "contested"})).await.status, 200);
        let r = move_to(&app, &counsel(&app), &contested, json!({"status": "approved"})).await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(r.text.contains("prc_approval_missing"), "{}", r.text);
        let r = move_to(&app, &counsel(&app), &contested, json!({"status": "approved", "approval_reference": "MOJ-9"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["outcome"], "approved");
        assert!(r.body["reasons"].as_array().unwrap().is_empty());
        let e = entry(&app, r.body["decision_ledger_seq"].as_i64().unwrap()).await;
        assert_eq!(e["change"]["approval_reference"], "MOJ-9");
        // Services and procurement see none of it.
        assert_eq!(app.get(&format!("/v1/legal-requests/{did}"), &app.alice()).await.status, 403);
        assert_eq!(app.get("/v1/legal-requests", &app.token("service", "svc")).await.status, 403);
        // As it was when its first entry was written: denied, before the override.
        let first = entry(&app, denied["decision_ledger_seq"].as_i64().unwrap()).await;
        let then = app.get(&format!("/v1/legal-requests/{did}?as_of={}",
            urlencoding(first["at"].as_str().unwrap())), &app.auditor()).await;
        assert_eq!(then.status, 200, "{}", then.text);
        assert_eq!(then.body["status"], "denied");
        assert_eq!(then.body["as_of_ledger_seq"], denied["decision_ledger_seq"]);
    }
}

pub fn urlencoding(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

on_each_backend! {
    async fn the_transparency_report_never_shows_an_exact_count_of_national_security_process(app: TestApp) {
        for instrument in ["national_security_letter", "national_security_letter", "fisa_order"] {
            file(&app, demand(json!({"instrument": instrument, "data_stored_in": ["US"]}))).await;
        }
        file(&app, demand(json!({}))).await;
        file(&app, demand(json!({"authority_country": "DE", "authority_kind": "regulator",
            "instrument": "regulator_request", "data_stored_in": ["US"]}))).await;
        // Another year counts in its own report only.
        file(&app, demand(json!({"received_at": "2025-12-31T23:59:59Z", "data_stored_in": ["US"]}))).await;
        file(&app, demand(json!({"received_at": "2027-01-01T00:00:00Z", "data_stored_in": ["US"]}))).await;
        let r = app.get("/v1/reports/legal-requests?year=2026", &counsel(&app)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["requests"], 2);
        assert_eq!(r.body["by_authority_country"], json!({"US": 1, "DE": 1}));
        assert_eq!(r.body["by_instrument"], json!({"subpoena": 1, "regulator_request": 1}));
        assert_eq!(r.body["by_outcome"], json!({"approved": 1, "denied": 1}));
        assert_eq!(r.body["national_security_process"]["band"], "0-249");
        for word in ["national_security_letter", "fisa_order"] {
            assert!(!r.text.contains(word), "{}", r.text);
        }
        let csv = app.get("/v1/reports/legal-requests?year=2026&format=csv", &app.auditor()).await;
        assert_eq!(csv.status, 200);
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        assert!(csv.text.contains("2026,requests,all,2\r\n"), "{}", csv.text);
        assert!(csv.text.contains("2026,national_security_process,band,0-249\r\n"), "{}", csv.text);
        assert!(!csv.text.contains("national_security_letter") && !csv.text.contains(",3\r\n"), "{}", csv.text);
        let last = app.get("/v1/reports/legal-requests?year=2025", &counsel(&app)).await;
        assert_eq!(last.body["requests"], 1);
        assert_eq!(app.get("/v1/reports/legal-requests", &counsel(&app)).await.status, 400);
        assert_eq!(app.get("/v1/reports/legal-requests?year=2026&format=xml", &counsel(&app)).await.status, 400);
    }
}

on_each_backend! {
    async fn a_legal_request_honours_its_idempotency_key(app: TestApp) {
        let keyed = |body: Value| {
            actix_web::test::TestRequest::post()
                .uri("/v1/legal-requests")
                .insert_header(("Authorization", format!("Bearer {}", counsel(&app))))
                .insert_header(("Idempotency-Key", "demand-1"))
                .set_json(body)
        };
        let first = app.send(keyed(demand(json!({})))).await;
        assert_eq!(first.status, 201, "{}", first.text);
        assert!(first.header("idempotent-replayed").is_none());
        let again = app.send(keyed(demand(json!({})))).await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(again.body, first.body);
        let other = app.send(keyed(demand(json!({"reference": "CASE-9"})))).await;
        assert_eq!(other.status, 422, "{}", other.text);
        let all = app.get("/v1/legal-requests", &counsel(&app)).await;
        assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
    }
}
