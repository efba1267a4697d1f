//! Four eyes on grants (issue "Answers people can act on", bullet 6): a new grant, or one whose
//! exemptions were widened, is relied on only once a principal other than who asked for it
//! approves it; until then decisions say `grant_not_approved`, with the grant and the remedy.

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

fn stamp() -> String {
    std::thread::sleep(std::time::Duration::from_millis(3));
    let t = vendor_registry::time::format(vendor_registry::time::now());
    std::thread::sleep(std::time::Duration::from_millis(3));
    t
}

fn ask(party: &Value) -> Value {
    json!({"party_id": party["id"], "purpose": "marketing.communications.email", "categories": ["user.contact.email"],
        "destination_country": "US", "subject_country": "US", "subject_count": 1})
}

on_each_backend! {
    async fn a_grant_is_relied_on_only_once_a_second_person_approves_it(app: TestApp) {
        app.entity("acme-us", "US").await;
        app.service_for("newsletter", &["marketing.communications"], &["acme-us"]).await;
        let party = app.party(json!({})).await;
        let party = app.set_status(&party, "trusted").await;
        let pid = party["id"].as_str().unwrap();
        let scope = json!({"service": "newsletter", "categories": ["user.contact"], "allowed_regions": ["US"]});
        let made = app.post(&format!("/v1/parties/{pid}/grants"), &app.carol(), &scope).await;
        assert_eq!(made.status, 201, "[{}] {}", app.backend, made.text);
        let g = made.body;
        let gid = g["id"].as_str().unwrap().to_owned();
        assert_eq!(g["effective"], "pending_approval");
        assert_eq!(g["requested_by"], "carol");
        assert!(g["approved_by"].is_null() && g["approved_at"].is_null(), "{g}");

        // Until approved, a decision names the waiting grant and who can fix it.
        let svc = app.token("service", "newsletter");
        let d = app.post("/v1/sharing-requests", &svc, &ask(&party)).await;
        assert_eq!(d.body["outcome"], "denied", "{}", d.text);
        let reason = &d.body["reasons"][0];
        assert_eq!(reason["code"], "grant_not_approved", "{}", d.text);
        assert_eq!(reason["category"], "user.contact.email");
        assert_eq!(reason["evidence"]["grant_id"], gid.as_str());
        assert_eq!(reason["remedy"]["by"], "procurement");
        assert!(reason["remedy"]["action"].as_str().unwrap().contains("/v1/grants/{id}/approve"));
        assert_eq!(d.body["grants"], json!([]), "a denial lists no grant as relied on");

        // The approval queue.
        let queue = app.get("/v1/grants?effective=pending_approval", &app.bob()).await;
        assert_eq!(queue.status, 200, "{}", queue.text);
        let ids: Vec<&str> = queue.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![gid.as_str()]);
        let live = app.get("/v1/grants?effective=active", &app.bob()).await;
        assert_eq!(live.body["items"], json!([]), "a waiting grant is not active");

        // Who asked cannot approve; a stale or malformed If-Match is refused as elsewhere.
        let path = format!("/v1/grants/{gid}/approve");
        let own = app.post_if(&path, &app.carol(), &json!({}), "\"1\"").await;
        assert_eq!(own.status, 403, "{}", own.text);
        assert!(own.is_problem());
        assert!(own.body["detail"].as_str().unwrap().contains("Four eyes"), "{}", own.text);
        assert_eq!(app.post_if(&path, &app.bob(), &json!({}), "\"7\"").await.status, 412);
        assert_eq!(app.post_if(&path, &app.bob(), &json!({}), "1").await.status, 400);
        assert_eq!(app.post_if(&path, &app.token("service", "newsletter"), &json!({}), "\"1\"").await.status, 403);
        let waiting = stamp();
        let ok = app.post_if(&path, &app.bob(), &json!({}), "\"1\"").await;
        assert_eq!(ok.status, 200, "{}", ok.text);
        assert_eq!(ok.etag(), "\"2\"");
        assert_eq!(ok.body["effective"], "active");
        assert_eq!(ok.body["approved_by"], "bob");
        assert!(ok.body["approved_at"].is_string());
        let again = app.post_if(&path, &app.bob(), &json!({}), "\"2\"").await;
        assert_eq!(again.status, 409, "{}", again.text);

        let d = app.post("/v1/sharing-requests", &svc, &ask(&party)).await;
        assert_eq!(d.body["outcome"], "approved", "{}", d.text);
        assert_eq!(d.body["grants"][0]["grant_id"], gid.as_str());

        // History: as of before the approval the grant was waiting.
        let then = app.get(&format!("/v1/grants/{gid}?as_of={}", waiting.replace('+', "%2B")), &app.auditor()).await;
        assert_eq!(then.status, 200, "{}", then.text);
        assert_eq!(then.body["effective"], "pending_approval");
        // The ledger names the approver.
        let events = app.get(&format!("/v1/audit/events?subject=grant:{gid}"), &app.auditor()).await;
        let actions: Vec<(&str, &str)> = events.body["items"].as_array().unwrap().iter()
            .map(|e| (e["action"].as_str().unwrap(), e["actor"]["sub"].as_str().unwrap())).collect();
        assert_eq!(actions, vec![("grant.created", "carol"), ("grant.approved", "bob")]);
    }
}

on_each_backend! {
    async fn a_revoked_grant_is_never_approved_and_the_register_export_names_the_approver(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let party = app.party(json!({})).await;
        let pid = party["id"].as_str().unwrap();
        let scope = json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]});
        let made = app.post(&format!("/v1/parties/{pid}/grants"), &app.carol(), &scope).await;
        let gid = made.body["id"].as_str().unwrap().to_owned();
        let revoked = app.post_if(&format!("/v1/grants/{gid}/revoke"), &app.bob(), &json!({}), "\"1\"").await;
        assert_eq!(revoked.status, 200, "{}", revoked.text);
        assert_eq!(revoked.body["effective"], "revoked", "revoked wins over waiting");
        let r = app.post_if(&format!("/v1/grants/{gid}/approve"), &app.bob(), &json!({}), "\"2\"").await;
        assert_eq!(r.status, 409, "{}", r.text);

        let approved = app.grant(&party, scope).await;
        let csv = app.get("/v1/exports/register.csv", &app.auditor()).await;
        let mut lines = csv.text.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |name: &str| head.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {head:?}"));
        let row = lines.find(|l| l.contains(approved["id"].as_str().unwrap())).expect("the approved grant's row");
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields[col("grant_requested_by")], "carol");
        assert_eq!(fields[col("grant_approved_by")], "bob");
        assert_eq!(fields[col("effective")], "active");
    }
}

on_each_backend! {
    async fn a_material_change_sends_a_trusted_party_back_to_review_and_nothing_else_does(app: TestApp) {
        let party = app.party(json!({"country": "US", "data_locations": ["US", "DE"]})).await;
        let id = party["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/parties/{id}");
        // Each side of the line: what a review judged, and what it did not.
        let cases = [
            (json!({"contact_email": "privacy@acme.example"}), false),
            (json!({"risk_tier": "high"}), false),
            (json!({"country": "US"}), false),
            (json!({"data_locations": ["US"]}), false),
            (json!({"data_locations": ["US", "DE"]}), true),
            (json!({"country": "CA"}), true),
            (json!({"kind": "affiliate"}), true),
            (json!({"principal_place_of_business": "GB"}), true),
            (json!({"ownership": [{"country": "CN", "percent": 30}]}), true),
        ];
        for (change, material) in cases {
            let now = app.get(&path, &app.bob()).await;
            let now = if now.body["status"] == "trusted" {
                now
            } else {
                app.set_status(&party, "trusted").await;
                app.get(&path, &app.bob()).await
            };
            let r = app.patch_if(&path, &app.carol(), &change, &now.etag()).await;
            assert_eq!(r.status, 200, "[{}] {change}: {}", app.backend, r.text);
            let expected = if material { "pending_review" } else { "trusted" };
            assert_eq!(r.body["status"], expected, "{change}: {}", r.text);
            if material {
                assert_eq!(r.body["status_changed_by"], "carol");
            }
        }
        // The party went back to review: decisions say so until a second person trusts it.
        let r = app.get(&path, &app.bob()).await;
        assert_eq!(r.body["status"], "pending_review");
        assert!(r.body["status_reason"].as_str().unwrap().contains("ownership"), "{}", r.text);
    }
}
