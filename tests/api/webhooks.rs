//! Webhooks (#17 bullet 5): events from the ledger outbox and the reminders, signed with the
//! documented recipe, retried with doubling delays, each attempt visible, and only what the
//! subscriber may read. The worker's rounds are run here at chosen instants; a real process
//! killed between commit and delivery is `tests/crash.rs`.

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use vendor_registry::webhooks::{Settings, delivery};
use vendor_registry_test_support::receiver::{Received, Receiver};

use crate::helpers::{TestApp, on_each_backend};

fn settings() -> Settings {
    Settings {
        allow_http_loopback: true,
        retry_base: Duration::from_secs(10),
        max_attempts: 4,
        ..Settings::default()
    }
}

async fn app_for(app: TestApp) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    TestApp::spawn_configured(dir, app.pg_base(), None, |c| c.webhooks = settings()).await
}

/// One worker round at `now`, off the test's thread (it makes blocking HTTP calls).
async fn round(app: &TestApp, now: chrono::DateTime<Utc>) -> usize {
    let pool = app.state.pool.clone();
    actix_web::rt::task::spawn_blocking(move || delivery::round(&pool, &settings(), now, true))
        .await
        .unwrap()
        .unwrap()
}

async fn subscribe(app: &TestApp, token: &str, url: &str, types: &[&str]) -> Value {
    let r = app
        .post(
            "/v1/webhooks",
            token,
            &json!({"url": url, "event_types": types}),
        )
        .await;
    assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
    r.body
}

/// The documented recipe, written out: HMAC-SHA256 keyed with the base64 after `whsec_`, over
/// `{webhook-id}.{webhook-timestamp}.{body}`, base64, after `v1,`.
fn verifies(secret: &str, r: &Received) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        r.header("webhook-id").unwrap(),
        r.header("webhook-timestamp").unwrap(),
        r.body
    );
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    r.header("webhook-signature") == Some(expected.as_str())
}

fn body(r: &Received) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

async fn revoke(app: &TestApp, grant: &Value) {
    let path = format!("/v1/grants/{}/revoke", grant["id"].as_str().unwrap());
    let r = app
        .post_if(
            &path,
            &app.bob(),
            &json!({"reason": "test"}),
            &format!("\"{}\"", grant["version"]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

on_each_backend! {
    async fn a_receiver_that_fails_twice_gets_the_event_once_more_signed_with_one_id(app: TestApp) {
        let app = app_for(app).await;
        let hook = Receiver::start(vec![500, 503]);
        let own = Receiver::start(vec![]);
        let theirs = Receiver::start(vec![]);
        app.service("newsletter", &["marketing"]).await;
        app.service("billing", &["marketing"]).await;
        let party = app.party(json!({})).await;
        let party = app.set_status(&party, "trusted").await;
        let grant = app.grant(&party, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["PRC"]})).await;
        let sub = subscribe(&app, &app.alice(), &hook.url(), &["grant.revoked", "party.suspended"]).await;
        let secret = sub["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"), "{sub}");
        subscribe(&app, &app.token("service", "newsletter"), &own.url(), &["grant.revoked"]).await;
        subscribe(&app, &app.token("service", "billing"), &theirs.url(), &["grant.revoked"]).await;
        assert_eq!(round(&app, Utc::now()).await, 0, "what came before the subscription is not told");

        revoke(&app, &grant).await;
        let t0 = Utc::now();
        round(&app, t0).await;
        assert_eq!(hook.all().len(), 1);
        // Not yet due again: the first retry waits the base delay, the next twice that.
        round(&app, t0 + chrono::Duration::seconds(9)).await;
        assert_eq!(hook.all().len(), 1, "retried before its delay");
        round(&app, t0 + chrono::Duration::seconds(11)).await;
        assert_eq!(hook.all().len(), 2);
        round(&app, t0 + chrono::Duration::seconds(29)).await;
        assert_eq!(hook.all().len(), 2, "the second retry waits two base delays");
        round(&app, t0 + chrono::Duration::seconds(32)).await;
        let got = hook.all();
        assert_eq!(got.len(), 3);
        let id = got[0].header("webhook-id").unwrap().to_owned();
        for r in &got {
            assert_eq!(r.header("webhook-id"), Some(id.as_str()), "one event id across attempts");
            assert!(verifies(&secret, r), "the signature verifies with the recipe");
            assert_eq!(r.body, got[0].body, "the same body each time");
        }
        let event = body(&got[0]);
        assert_eq!(event["id"], id.as_str());
        assert_eq!(event["type"], "grant.revoked");
        assert_eq!(event["subject"], format!("grant:{}", grant["id"].as_str().unwrap()));
        assert_eq!(event["data"]["status"], "revoked");
        let seq = event["ledger_seq"].as_i64().unwrap();
        let entry = app.get("/v1/audit/events?action=grant.revoked", &app.auditor()).await;
        assert_eq!(entry.body["items"][0]["seq"], seq, "the event names its ledger entry");
        // A tampered body or a different secret does not verify.
        let mut forged = got[0].clone();
        forged.body = forged.body.replace("revoked", "active");
        assert!(!verifies(&secret, &forged));

        let list = app.get(&format!("/v1/webhooks/{}/deliveries", sub["id"].as_str().unwrap()), &app.alice()).await;
        assert_eq!(list.status, 200, "{}", list.text);
        let d = &list.body[0];
        assert_eq!(d["event_id"], id.as_str());
        assert_eq!(d["attempts"], 3);
        assert_eq!(d["last_status"], 200);
        assert_eq!(d["last_error"], "answered 503", "the last failure stays visible");
        assert!(d["delivered_at"].is_string() && d["next_attempt_at"].is_null(), "{d}");

        // The service's own grant's event reaches it; another service's subscription gets none.
        assert_eq!(own.all().len(), 1);
        assert_eq!(body(&own.all()[0])["id"], id.as_str());
        assert!(theirs.all().is_empty());

        // Nothing is sent twice once delivered.
        round(&app, t0 + chrono::Duration::seconds(600)).await;
        assert_eq!(hook.all().len(), 3);
        app.set_status(&party, "suspended").await;
        round(&app, Utc::now()).await;
        let got = hook.all();
        assert_eq!(got.len(), 4);
        assert_eq!(body(&got[3])["type"], "party.suspended");
        assert_ne!(got[3].header("webhook-id"), Some(id.as_str()));
    }
}

on_each_backend! {
    async fn a_receiver_that_never_answers_well_is_given_up_after_the_last_attempt(app: TestApp) {
        let app = app_for(app).await;
        let hook = Receiver::start(vec![500; 10]);
        app.service("newsletter", &["marketing"]).await;
        let sub = subscribe(&app, &app.alice(), &hook.url(), &["party.created"]).await;
        app.party(json!({})).await;
        let t0 = Utc::now();
        for s in [0, 20, 40, 80, 160, 320] {
            round(&app, t0 + chrono::Duration::seconds(s)).await;
        }
        assert_eq!(hook.all().len(), 4, "max_attempts");
        let list = app.get(&format!("/v1/webhooks/{}/deliveries", sub["id"].as_str().unwrap()), &app.alice()).await;
        let d = &list.body[0];
        assert_eq!(d["attempts"], 4);
        assert!(d["failed_at"].is_string() && d["delivered_at"].is_null() && d["next_attempt_at"].is_null(), "{d}");
        assert_eq!(d["last_error"], "answered 500");
    }
}

on_each_backend! {
    async fn reminders_become_events_once_each(app: TestApp) {
        let app = app_for(app).await;
        let hook = Receiver::start(vec![]);
        app.service("newsletter", &["marketing"]).await;
        let party = app.party(json!({})).await;
        let party = app.set_status(&party, "trusted").await;
        let until = (Utc::now() + chrono::Duration::days(5)).to_rfc3339();
        let grant = app.grant(&party, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["PRC"],
            "valid_until": until})).await;
        subscribe(&app, &app.alice(), &hook.url(), &["grant.expiring"]).await;
        round(&app, Utc::now()).await;
        round(&app, Utc::now()).await;
        let got = hook.all();
        assert_eq!(got.len(), 1, "one event for one reminder");
        let event = body(&got[0]);
        assert_eq!(event["type"], "grant.expiring");
        assert_eq!(event["ledger_seq"], Value::Null);
        assert_eq!(event["data"]["object_id"], grant["id"]);
        assert_eq!(event["subject"], format!("grant:{}", grant["id"].as_str().unwrap()));
    }
}

on_each_backend! {
    async fn a_webhook_is_https_for_what_its_owner_may_read_and_only_its_owner_sees_it(app: TestApp) {
        let strict = app.fresh().await;
        let r = strict.post("/v1/webhooks", &strict.alice(), &json!({"url": "http://127.0.0.1:9/x", "event_types": ["grant.revoked"]})).await;
        assert_eq!(r.status, 422, "http is refused unless configured: {}", r.text);
        let app = app_for(app).await;
        for url in ["ftp://example.com/x", "http://example.com/x", "https://user:pw@example.com/x", "not a url"] {
            let r = app.post("/v1/webhooks", &app.alice(), &json!({"url": url, "event_types": ["grant.revoked"]})).await;
            assert_eq!(r.status, 422, "{url}: {}", r.text);
            assert_eq!(r.error_fields(), vec!["url"]);
        }
        let r = app.post("/v1/webhooks", &app.token("service", "newsletter"),
            &json!({"url": "https://hooks.example/x", "event_types": ["grant.revoked", "party.suspended"]})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["event_types[1]"], "a service cannot read parties' events");
        let r = app.post("/v1/webhooks", &app.alice(), &json!({"url": "https://hooks.example/x", "event_types": ["grant.nope"]})).await;
        assert_eq!(r.status, 422);
        let r = app.post("/v1/webhooks", &app.auditor(), &json!({"url": "https://hooks.example/x", "event_types": ["grant.revoked"]})).await;
        assert_eq!(r.status, 403);

        let mine = subscribe(&app, &app.alice(), "https://hooks.example/a", &["grant.revoked"]).await;
        subscribe(&app, &app.bob(), "https://hooks.example/b", &["grant.revoked"]).await;
        let path = format!("/v1/webhooks/{}", mine["id"].as_str().unwrap());
        let read = app.get(&path, &app.alice()).await;
        assert_eq!(read.status, 200);
        assert!(read.body.get("secret").is_none(), "the secret is shown once: {}", read.text);
        assert_eq!(app.get(&path, &app.bob()).await.status, 404, "another's webhook is not there for bob");
        assert_eq!(app.get("/v1/webhooks", &app.alice()).await.body.as_array().unwrap().len(), 1);
        assert_eq!(app.get("/v1/webhooks", &app.admin()).await.body.as_array().unwrap().len(), 2);
        let del = app.request(actix_web::http::Method::DELETE, &path, Some(&app.alice()), None, None).await;
        assert_eq!(del.status, 200, "{}", del.text);
        assert_eq!(del.body["active"], false);
        let again = app.request(actix_web::http::Method::DELETE, &path, Some(&app.alice()), None, None).await;
        assert_eq!(again.status, 409);
        let events = app.get("/v1/audit/events?action=webhook.created", &app.auditor()).await;
        assert_eq!(events.body["items"].as_array().unwrap().len(), 2);
        assert!(!events.text.contains("whsec_"), "the ledger never holds a secret");
    }
}
