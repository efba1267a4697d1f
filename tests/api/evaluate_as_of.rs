//! `POST /v1/sharing-requests/evaluate?as_of=`: a request judged as it would have been at a past
//! instant — the register the ledger recorded then and the volume counters as they stood — with
//! nothing recorded. Each change is tested on both sides of its ledger entry's instant: at the
//! instant the change is in, one microsecond before it is not.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, on_each_backend};

/// The `at` and `seq` of the latest ledger entry of `action`.
async fn entry(app: &TestApp, action: &str) -> (String, i64) {
    let mut after = 0;
    let mut last = None;
    loop {
        let page = app
            .get(
                &format!("/v1/audit/events?action={action}&after_seq={after}&limit=200"),
                &app.auditor(),
            )
            .await;
        let items = page.body["items"].as_array().cloned().unwrap_or_default();
        let Some(item) = items.last() else { break };
        after = item["seq"].as_i64().unwrap();
        last = Some((item["at"].as_str().unwrap().to_owned(), after));
    }
    last.unwrap_or_else(|| panic!("no {action} entry"))
}

/// One microsecond before the stored instant `at`.
fn just_before(at: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(at).unwrap() - Duration::microseconds(1);
    t.with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Entries written a few milliseconds apart never share an instant.
async fn pause() {
    actix_web::rt::time::sleep(std::time::Duration::from_millis(3)).await;
}

async fn evaluate(app: &TestApp, as_of: &str, body: &Value) -> Resp {
    let path = format!("/v1/sharing-requests/evaluate?as_of={}", urlencode(as_of));
    app.post(&path, &app.alice(), body).await
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

fn codes(r: &Resp) -> Vec<String> {
    r.body["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {}", r.text))
        .iter()
        .map(|x| x["code"].as_str().unwrap().to_owned())
        .collect()
}

fn ask(party: &Value) -> Value {
    json!({"service": "newsletter", "party_id": party["id"], "purpose": "marketing.communications.email",
        "categories": ["user.contact.email"], "destination_country": "US", "subject_country": "US", "subject_count": 1})
}

async fn head(app: &TestApp) -> Value {
    app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"].clone()
}

on_each_backend! {
    async fn an_evaluation_as_of_an_instant_judges_the_register_the_ledger_recorded_then(app: TestApp) {
        app.entity("acme-us", "US").await;
        pause().await;
        app.service_for("newsletter", &["marketing.communications"], &["acme-us"]).await;
        let (service_at, _) = entry(&app, "service.created").await;
        pause().await;
        let party = app.party(json!({})).await;
        let (party_at, _) = entry(&app, "party.created").await;
        pause().await;
        let grant = app.grant(&party, json!({"service": "newsletter", "categories": ["user.contact.email"],
            "allowed_regions": ["US"]})).await;
        let (approved_at, _) = entry(&app, "grant.approved").await;
        pause().await;
        let party = app.set_status(&party, "trusted").await;
        let (trusted_at, _) = entry(&app, "party.status_changed").await;
        pause().await;
        let gid = grant["id"].as_str().unwrap();
        let r = app.post_if(&format!("/v1/grants/{gid}/revoke"), &app.alice(),
            &json!({"reason": "contract ended"}), &format!("\"{}\"", grant["version"])).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let (revoked_at, revoked_seq) = entry(&app, "grant.revoked").await;
        let before = head(&app).await;

        // Now: the grant is revoked.
        let now = app.post("/v1/sharing-requests/evaluate", &app.alice(), &ask(&party)).await;
        assert_eq!(now.body["outcome"], "denied", "{}", now.text);
        assert!(now.body.get("as_of").is_none(), "{}", now.text);
        // At the revocation's instant it is in; a microsecond before, the grant was in force.
        let at = evaluate(&app, &revoked_at, &ask(&party)).await;
        assert_eq!(at.status, 200, "{}", at.text);
        assert_eq!(at.body["outcome"], "denied", "{}", at.text);
        assert_eq!(at.body["as_of_ledger_seq"], revoked_seq);
        let then = evaluate(&app, &just_before(&revoked_at), &ask(&party)).await;
        assert_eq!(then.body["outcome"], "approved", "[{}] {}", app.backend, then.text);
        assert_eq!(then.body["recorded"], false);
        assert_eq!(then.body["as_of"], just_before(&revoked_at));
        assert_eq!(then.body["as_of_ledger_seq"], revoked_seq - 1);
        assert_eq!(then.body["grants"][0]["grant_id"], grant["id"], "{}", then.text);
        // Before the party was trusted; before the grant was approved; before the party and the
        // service existed — each the reason of its own rule.
        let r = evaluate(&app, &trusted_at, &ask(&party)).await;
        assert_eq!(r.body["outcome"], "approved", "{}", r.text);
        let r = evaluate(&app, &just_before(&trusted_at), &ask(&party)).await;
        assert_eq!(codes(&r), ["party_not_trusted"], "{}", r.text);
        assert_eq!(r.body["reasons"][0]["evidence"]["party_status"], "pending_review");
        let r = evaluate(&app, &approved_at, &ask(&party)).await;
        assert_eq!(codes(&r), ["party_not_trusted"], "{}", r.text);
        let r = evaluate(&app, &just_before(&approved_at), &ask(&party)).await;
        assert!(codes(&r).contains(&"grant_not_approved".to_owned()), "{}", r.text);
        let r = evaluate(&app, &party_at, &ask(&party)).await;
        assert!(!codes(&r).contains(&"party_unknown".to_owned()), "{}", r.text);
        let r = evaluate(&app, &just_before(&party_at), &ask(&party)).await;
        assert_eq!(codes(&r), ["party_unknown"], "{}", r.text);
        let r = evaluate(&app, &service_at, &ask(&party)).await;
        assert!(!codes(&r).contains(&"service_unknown".to_owned()), "{}", r.text);
        let r = evaluate(&app, &just_before(&service_at), &ask(&party)).await;
        assert!(codes(&r).contains(&"service_unknown".to_owned()), "{}", r.text);
        // A bare date is the end of that day, UTC: yesterday not even the taxonomy was seeded
        // (this register was made today), so its keys were unknown then.
        let yesterday = (Utc::now() - Duration::days(1)).format("%Y-%m-%d").to_string();
        let r = evaluate(&app, &yesterday, &ask(&party)).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), ["categories[0]", "purpose"], "{}", r.text);
        // A service asks for itself, as of then.
        let path = format!("/v1/sharing-requests/evaluate?as_of={}", urlencode(&just_before(&revoked_at)));
        let own = app.post(&path, &app.token("service", "newsletter"), &ask(&party)).await;
        assert_eq!(own.body["outcome"], "approved", "{}", own.text);
        // Nothing was written.
        assert_eq!(head(&app).await, before);
        assert_eq!(app.get("/v1/audit/verify", &app.auditor()).await.body["ok"], true);
    }
}

on_each_backend! {
    async fn as_of_is_an_instant_or_a_date_and_never_in_the_future(app: TestApp) {
        let body = json!({"service": "newsletter", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f",
            "purpose": "marketing.communications.email", "categories": ["user.contact.email"],
            "destination_country": "US", "subject_country": "US", "subject_count": 1});
        for bad in ["yesterday", "2026-02-30", "2026-06-01T25:00:00Z"] {
            let r = evaluate(&app, bad, &body).await;
            assert_eq!(r.status, 422, "{bad}: {}", r.text);
            assert_eq!(r.error_fields(), ["as_of"], "{bad}");
        }
        let tomorrow = (Utc::now() + Duration::days(1)).format("%Y-%m-%d").to_string();
        let r = evaluate(&app, &tomorrow, &body).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("future"), "{}", r.text);
        pause().await;
        let r = evaluate(&app, &Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(), &body).await;
        assert_eq!(r.status, 200, "an instant just past: {}", r.text);
        assert_eq!(codes(&r), ["service_unknown", "party_unknown"], "{}", r.text);
    }
}

on_each_backend! {
    async fn a_category_added_after_as_of_is_unknown_then(app: TestApp) {
        app.entity("acme-us", "US").await;
        app.service_for("newsletter", &["marketing.communications"], &["acme-us"]).await;
        let party = app.set_status(&app.party(json!({})).await, "trusted").await;
        pause().await;
        let r = app.post("/v1/taxonomy/categories", &app.admin(), &json!({"key": "user.contact.pager",
            "name": "Pager", "description": "A pager number.", "parent": "user.contact"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let (added_at, _) = entry(&app, "category.created").await;
        let mut body = ask(&party);
        body["categories"] = json!(["user.contact.pager"]);
        let r = evaluate(&app, &added_at, &body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(codes(&r), ["category_not_granted"], "{}", r.text);
        let r = evaluate(&app, &just_before(&added_at), &body).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), ["categories[0]"]);
        assert!(r.text.contains("added later"), "{}", r.text);
    }
}

on_each_backend! {
    async fn the_volume_counters_are_those_of_the_instant_judged(app: TestApp) {
        // DSP: genomic data to a covered person is prohibited once more than 100 people are
        // counted over the window (28 CFR 202.205(a), 202.303).
        let r = app.post("/v1/entities", &app.admin(),
            &json!({"key": "us", "legal_name": "us", "country": "US"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        app.service_for("svc", &["marketing", "employment"], &["us"]).await;
        let party = app.set_status(&app.party(json!({"country": "CN", "data_locations": ["SG"]})).await, "trusted").await;
        app.grant(&party, json!({"service": "svc", "categories": ["user.health_and_medical"],
            "allowed_regions": ["PRC", "US", "OTHER"], "pipia_reference": "PIPIA-1", "separate_consent": true})).await;
        let gene = |n: i64| json!({"service": "svc", "party_id": party["id"], "purpose": "marketing.communications.email",
            "categories": ["user.health_and_medical.genetic"], "destination_country": "SG", "subject_country": "US",
            "subject_count": n, "exporter": "us"});
        pause().await;
        let first = app.share("svc", gene(60)).await;
        assert_eq!(first.body["outcome"], "approved", "{}", first.text);
        let (counted_at, _) = entry(&app, "decision.recorded").await;
        // Now 60 are counted: 50 more is bulk, and prohibited.
        let now = app.post("/v1/sharing-requests/evaluate", &app.alice(), &gene(50)).await;
        assert!(codes(&now).contains(&"us_dsp_prohibited".to_owned()), "{}", now.text);
        let r = evaluate(&app, &counted_at, &gene(50)).await;
        assert!(codes(&r).contains(&"us_dsp_prohibited".to_owned()), "{}", r.text);
        // Before the first share was counted, 50 alone is not bulk.
        let r = evaluate(&app, &just_before(&counted_at), &gene(50)).await;
        assert_eq!(r.body["outcome"], "approved", "[{}] {}", app.backend, r.text);
        // And 101 was bulk then too.
        let r = evaluate(&app, &just_before(&counted_at), &gene(101)).await;
        assert!(codes(&r).contains(&"us_dsp_prohibited".to_owned()), "{}", r.text);
        // The counters were not touched.
        let again = app.post("/v1/sharing-requests/evaluate", &app.alice(), &gene(40)).await;
        assert_eq!(again.body["outcome"], "approved", "60 + 40 is not more than 100: {}", again.text);
    }
}
