//! Grants that live (issue "Procurement at scale", bullet 4): an amendment or renewal is a new
//! grant that supersedes the old one; the old one stays in force until a second person approves
//! the new one, then is revoked as superseded — and stays in history and in `as_of`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

fn stamp() -> String {
    std::thread::sleep(std::time::Duration::from_millis(3));
    let t = vendor_registry::time::format(vendor_registry::time::now());
    std::thread::sleep(std::time::Duration::from_millis(3));
    t
}

/// The ETag of an object as answered: its version, quoted.
fn etag(v: &Value) -> String {
    format!("\"{}\"", v["version"])
}

fn ask(party: &Value, country: &str) -> Value {
    json!({"party_id": party["id"], "purpose": "marketing.communications.email", "categories": ["user.contact.email"],
        "destination_country": country, "subject_country": "US", "subject_count": 1})
}

/// A trusted party with locations in the US and Singapore, granted e-mail for the US only.
async fn world(app: &TestApp) -> (Value, Value) {
    app.entity("acme-us", "US").await;
    app.service_for("newsletter", &["marketing.communications"], &["acme-us"])
        .await;
    let party = app
        .party(json!({"country": "US", "data_locations": ["US", "SG"]}))
        .await;
    let party = app.set_status(&party, "trusted").await;
    let g = app
        .grant(
            &party,
            json!({"service": "newsletter", "categories": ["user.contact.email"],
        "allowed_regions": ["US"], "valid_until": "2099-01-01T00:00:00Z"}),
        )
        .await;
    (party, g)
}

on_each_backend! {
    async fn an_amendment_takes_over_only_once_approved_and_the_old_grant_stays_in_history(app: TestApp) {
        let (party, old) = world(&app).await;
        let old_id = old["id"].as_str().unwrap().to_owned();
        let svc = app.token("service", "newsletter");
        let denied = app.post("/v1/sharing-requests", &svc, &ask(&party, "SG")).await;
        assert_eq!(denied.body["reasons"][0]["code"], "destination_region_not_allowed", "{}", denied.text);
        assert!(denied.body["reasons"][0]["remedy"]["action"].as_str().unwrap().contains("/amend"), "{}", denied.text);

        let path = format!("/v1/grants/{old_id}/amend");
        let change = json!({"allowed_regions": ["US", "OTHER"]});
        assert_eq!(app.post_if(&path, &app.carol(), &change, "\"1\"").await.status, 412, "the old grant's ETag");
        let bad = app.post_if(&path, &app.carol(), &json!({"service": "other"}), &etag(&old)).await;
        assert_eq!(bad.status, 422, "the service never changes: {}", bad.text);
        let made = app.post_if(&path, &app.carol(), &change, &etag(&old)).await;
        assert_eq!(made.status, 201, "[{}] {}", app.backend, made.text);
        let new = made.body.clone();
        assert_eq!(new["supersedes"], old_id.as_str());
        assert_eq!(new["effective"], "pending_approval");
        assert_eq!(new["categories"], json!(["user.contact.email"]), "unchanged fields carry over");
        assert_eq!(new["valid_until"], old["valid_until"]);
        assert_eq!(made.header("location").unwrap(), format!("/v1/grants/{}", new["id"].as_str().unwrap()));
        let again = app.post_if(&path, &app.carol(), &change, &etag(&old)).await;
        assert_eq!(again.status, 409, "one amendment waits at a time: {}", again.text);

        // Until approved the old grant decides: the US share still goes, Singapore still does not.
        assert_eq!(app.post("/v1/sharing-requests", &svc, &ask(&party, "US")).await.body["outcome"], "approved");
        assert_eq!(app.post("/v1/sharing-requests", &svc, &ask(&party, "SG")).await.body["outcome"], "denied");
        let before = stamp();
        let approved = app.approve(&new).await;
        assert_eq!(approved["effective"], "active");
        let d = app.post("/v1/sharing-requests", &svc, &ask(&party, "SG")).await;
        assert_eq!(d.body["outcome"], "approved", "{}", d.text);
        assert_eq!(d.body["grants"][0]["grant_id"], new["id"]);

        let now = app.get(&format!("/v1/grants/{old_id}"), &app.auditor()).await;
        assert_eq!(now.body["effective"], "revoked");
        assert_eq!(now.body["superseded_by"], new["id"]);
        assert_eq!(now.body["revoked_reason"], format!("superseded by {}", new["id"].as_str().unwrap()));
        let then = app.get(&format!("/v1/grants/{old_id}?as_of={}", before.replace('+', "%2B")), &app.auditor()).await;
        assert_eq!(then.body["effective"], "active", "{}", then.text);
        let amend_again = app.post_if(&path, &app.carol(), &change, &now.etag()).await;
        assert_eq!(amend_again.status, 409, "{}", amend_again.text);
        assert!(amend_again.body["detail"].as_str().unwrap().contains(new["id"].as_str().unwrap()));
    }
}

on_each_backend! {
    async fn a_renewal_of_an_expired_grant_and_the_rules_every_grant_keeps(app: TestApp) {
        app.entity("acme-us", "US").await;
        app.service_for("newsletter", &["marketing.communications"], &["acme-us"]).await;
        let party = app.party(json!({"country": "US", "data_locations": ["US"]})).await;
        let party = app.set_status(&party, "trusted").await;
        let old = app.grant(&party, json!({"service": "newsletter", "categories": ["user.contact.email"],
            "allowed_regions": ["US"], "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2021-01-01T00:00:00Z"})).await;
        let svc = app.token("service", "newsletter");
        let d = app.post("/v1/sharing-requests", &svc, &ask(&party, "US")).await;
        assert_eq!(d.body["reasons"][0]["code"], "grant_expired", "{}", d.text);
        assert!(d.body["reasons"][0]["remedy"]["action"].as_str().unwrap().contains("/amend, valid_until"), "{}", d.text);
        let path = format!("/v1/grants/{}/amend", old["id"].as_str().unwrap());
        // The window rule of a new grant holds for a renewal.
        let r = app.post_if(&path, &app.carol(), &json!({"valid_until": "2019-01-01T00:00:00Z"}), &etag(&old)).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["valid_until"]);
        // Four eyes after trust: the registrant does not amend alone.
        let r = app.post_if(&path, &app.alice(), &json!({"valid_until": null}), &etag(&old)).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let renewal = app.post_if(&path, &app.carol(), &json!({"valid_until": null}), &etag(&old)).await;
        assert_eq!(renewal.status, 201, "{}", renewal.text);
        assert!(renewal.body["valid_until"].is_null(), "null clears it: open-ended");
        let own = app.post_if(&format!("/v1/grants/{}/approve", renewal.body["id"].as_str().unwrap()), &app.carol(),
            &json!({}), "\"1\"").await;
        assert_eq!(own.status, 403, "who asked for the renewal does not approve it");
        app.approve(&renewal.body).await;
        assert_eq!(app.post("/v1/sharing-requests", &svc, &ask(&party, "US")).await.body["outcome"], "approved");

        // A revoked grant that nothing superseded is granted anew, not amended.
        let other = app.grant(&party, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
        let id = other["id"].as_str().unwrap();
        let revoked = app.post_if(&format!("/v1/grants/{id}/revoke"), &app.bob(), &json!({}), &etag(&other)).await;
        let r = app.post_if(&format!("/v1/grants/{id}/amend"), &app.carol(), &json!({"allowed_regions": ["PRC"]}), &revoked.etag()).await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(r.body["detail"].as_str().unwrap().contains("grant the scope anew"), "{}", r.text);
        assert_eq!(app.post_if("/v1/grants/nope/amend", &app.carol(), &json!({}), "\"1\"").await.status, 404);
    }
}
