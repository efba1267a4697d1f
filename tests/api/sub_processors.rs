//! Sub-processors and onward transfers (#17 bullet 3, docs/TRANSFERS.md "Onward transfers"): a
//! share to a party is approved only if every sub-processor it passes the share's categories on
//! to, for the share's service, is trusted, authorised by the decision's day, declared where it
//! processes them and passes the transfer law of its hop; each failure names the hop (`via`).

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, on_each_backend};

fn day(offset: i64) -> String {
    (Utc::now().date_naive() + Duration::days(offset)).to_string()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

/// Replaces `party`'s sub-processors as the principal of `token`.
async fn put(app: &TestApp, party: &Value, token: &str, list: Value) -> Resp {
    let path = format!("/v1/parties/{}", id(party));
    let current = app.get(&path, &app.alice()).await;
    let req = actix_web::test::TestRequest::put()
        .uri(&format!("{path}/sub-processors"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("If-Match", current.etag()))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(json!({ "sub_processors": list }).to_string());
    app.send(req).await
}

async fn put_ok(app: &TestApp, party: &Value, list: Value) -> Value {
    let r = put(app, party, &app.carol(), list).await;
    assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
    r.body
}

/// `(code, via, category)` of each reason.
fn reasons(r: &Resp) -> Vec<(String, String, String)> {
    r.body["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {}", r.text))
        .iter()
        .map(|x| {
            let s = |k: &str| x[k].as_str().unwrap_or("").to_owned();
            (s("code"), s("via"), s("category"))
        })
        .collect()
}

/// A vendor in Singapore trusted and granted `user.contact` for `newsletter` and `billing`, and a
/// sub-processor registered (pending review). No transfer regime applies to Singapore.
async fn world(app: &TestApp) -> (Value, Value) {
    app.service("newsletter", &["marketing"]).await;
    app.service("billing", &["marketing"]).await;
    let sg = json!({"country": "SG", "data_locations": ["SG"]});
    let vendor = app.party(sg.clone()).await;
    let vendor = app.set_status(&vendor, "trusted").await;
    for service in ["newsletter", "billing"] {
        app.grant(&vendor, json!({"service": service, "categories": ["user.contact"], "allowed_regions": ["OTHER"]}))
            .await;
    }
    let mut sub = sg;
    sub["legal_name"] = json!("Cloud Mail SG Pte Ltd");
    let sub = app.party(sub).await;
    (vendor, sub)
}

fn ask(vendor: &Value, category: &str) -> Value {
    json!({"party_id": vendor["id"], "purpose": "marketing", "categories": [category],
        "destination_country": "SG", "subject_country": "SG", "subject_count": 10})
}

async fn outcome(app: &TestApp, service: &str, body: Value) -> Resp {
    let r = app.share(service, body).await;
    assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
    r
}

fn entry(sub: &Value, authorised_on: Value, countries: &[&str]) -> Value {
    json!([{"party_id": sub["id"], "categories": ["user.contact.email"], "services": ["newsletter"],
        "countries": countries, "authorised_on": authorised_on}])
}

on_each_backend! {
    async fn a_share_goes_only_as_far_as_every_sub_processor_on_its_route_allows(app: TestApp) {
        let (vendor, sub) = world(&app).await;
        let email = ask(&vendor, "user.contact.email");
        assert_eq!(outcome(&app, "newsletter", email.clone()).await.body["outcome"], "approved");

        // Its registrant may not add a sub-processor to a trusted party alone (four eyes).
        let r = put(&app, &vendor, &app.alice(), entry(&sub, json!(day(-1)), &["SG"])).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let v = put_ok(&app, &vendor, entry(&sub, json!(day(-1)), &["SG"])).await;
        assert_eq!(v["sub_processors"][0]["party_id"], sub["id"]);
        assert_eq!(v["status"], "trusted", "naming a sub-processor is not a material change");

        // Pending review: not trusted. The reason names the hop, its rule, its evidence, its remedy.
        let r = outcome(&app, "newsletter", email.clone()).await;
        assert_eq!(r.body["outcome"], "denied");
        let sub_id = id(&sub).to_owned();
        assert_eq!(reasons(&r), vec![("sub_processor_not_trusted".into(), sub_id.clone(), "user.contact.email".into())]);
        let reason = &r.body["reasons"][0];
        assert_eq!(reason["rule"], "GDPR Art. 28(2), 28(4); PIPL Art. 21");
        assert_eq!(reason["evidence"]["party_status"], "pending_review");
        assert_eq!(reason["remedy"]["by"], "procurement");

        // What the sub-processor does not receive still goes: another category, another service.
        assert_eq!(outcome(&app, "newsletter", ask(&vendor, "user.contact.phone_number")).await.body["outcome"], "approved");
        assert_eq!(outcome(&app, "billing", email.clone()).await.body["outcome"], "approved");
        // A broader category carries the one it receives.
        let r = outcome(&app, "newsletter", ask(&vendor, "user.contact")).await;
        assert_eq!(reasons(&r), vec![("sub_processor_not_trusted".into(), sub_id.clone(), "user.contact".into())]);

        app.set_status(&sub, "trusted").await;
        assert_eq!(outcome(&app, "newsletter", email.clone()).await.body["outcome"], "approved");

        // Authorised from today: approved; from tomorrow, or not yet: not authorised.
        put_ok(&app, &vendor, entry(&sub, json!(day(0)), &["SG"])).await;
        assert_eq!(outcome(&app, "newsletter", email.clone()).await.body["outcome"], "approved");
        for not_yet in [json!(day(1)), Value::Null] {
            put_ok(&app, &vendor, entry(&sub, not_yet, &["SG"])).await;
            let r = outcome(&app, "newsletter", email.clone()).await;
            assert_eq!(reasons(&r), vec![("sub_processor_not_authorised".into(), sub_id.clone(), "user.contact.email".into())]);
        }

        // Processing where the sub-processor does not declare it.
        put_ok(&app, &vendor, entry(&sub, json!(day(0)), &["SG", "JP"])).await;
        let r = outcome(&app, "newsletter", email.clone()).await;
        assert_eq!(reasons(&r), vec![("destination_not_declared".into(), sub_id.clone(), "user.contact.email".into())]);
        assert_eq!(r.body["reasons"][0]["evidence"]["party_locations"], json!(["SG"]));

        // Suspending the sub-processor stops the share; removing it from the list lets it go.
        put_ok(&app, &vendor, entry(&sub, json!(day(0)), &["SG"])).await;
        app.set_status(&sub, "suspended").await;
        let r = outcome(&app, "newsletter", email.clone()).await;
        assert_eq!(reasons(&r)[0].0, "sub_processor_not_trusted");
        put_ok(&app, &vendor, json!([])).await;
        assert_eq!(outcome(&app, "newsletter", email).await.body["outcome"], "approved");
    }
}

on_each_backend! {
    async fn an_onward_hop_is_judged_by_the_transfer_law_of_where_it_goes(app: TestApp) {
        // A German vendor processing in Germany: no GDPR transfer. Its sub-processor in the US,
        // without a DPF certification, makes the route a transfer under GDPR Chapter V.
        app.entity("de", "DE").await;
        app.service_for("svc", &["marketing"], &["de"]).await;
        let vendor = app.party(json!({"country": "DE", "data_locations": ["DE"]})).await;
        let vendor = app.set_status(&vendor, "trusted").await;
        app.grant(&vendor, json!({"service": "svc", "categories": ["user.contact"], "allowed_regions": ["OTHER"]})).await;
        let sub = app.party(json!({"legal_name": "US Cloud Inc", "country": "US", "data_locations": ["US"]})).await;
        let sub = app.set_status(&sub, "trusted").await;
        let share = json!({"party_id": vendor["id"], "purpose": "marketing", "categories": ["user.contact.email"],
            "destination_country": "DE", "subject_country": "DE", "subject_count": 10, "exporter": "de"});
        assert_eq!(outcome(&app, "svc", share.clone()).await.body["outcome"], "approved");
        put_ok(&app, &vendor, json!([{"party_id": sub["id"], "categories": ["user"], "countries": ["US"],
            "authorised_on": day(-30)}])).await;
        let r = outcome(&app, "svc", share.clone()).await;
        assert_eq!(r.body["outcome"], "denied", "{}", r.text);
        let reason = &r.body["reasons"][0];
        assert_eq!(reason["code"], "transfer_mechanism_missing");
        assert_eq!(reason["regime"], "gdpr");
        assert_eq!(reason["rule"], "GDPR Art. 46");
        assert_eq!(reason["via"], sub["id"]);
        assert_eq!(r.body["reasons"].as_array().unwrap().len(), 1);
        // The vendor's SCCs, listed on the grant that approved the first hop, flow down to the
        // next: a grant backed by them passes it.
        let scc = app.post(&format!("/v1/parties/{}/agreements", id(&vendor)), &app.alice(),
            &json!({"exporter": "de", "kind": "eu_scc", "reference": "SCC-1", "valid_from": "2026-01-01T00:00:00Z",
                "tia_reference": "TIA-1"})).await;
        assert_eq!(scc.status, 201, "{}", scc.text);
        app.grant(&vendor, json!({"service": "svc", "categories": ["user.name"], "allowed_regions": ["OTHER"],
            "agreements": [scc.body["id"]]})).await;
        let mut phone = share.clone();
        phone["categories"] = json!(["user.name"]);
        let r = outcome(&app, "svc", phone).await;
        assert_eq!(r.body["outcome"], "approved", "{}", r.text);
        assert_eq!(r.body["regimes"], json!([]), "the first hop is no transfer: {}", r.text);
        // Certified under the DPF until today, the hop is adequate; until yesterday it is not.
        let path = format!("/v1/parties/{}", id(&sub));
        for (until, expected) in [(day(-1), "denied"), (day(0), "approved")] {
            let p = app.get(&path, &app.alice()).await;
            let r = app.patch_if(&path, &app.bob(), &json!({"dpf_certified_until": until}), &p.etag()).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(outcome(&app, "svc", share.clone()).await.body["outcome"], expected, "DPF until {until}");
        }
    }
}

on_each_backend! {
    async fn a_sub_processor_list_is_checked_whole_and_its_change_is_in_the_ledger(app: TestApp) {
        let (vendor, sub) = world(&app).await;
        let r = put(&app, &vendor, &app.carol(), json!([
            {"party_id": vendor["id"], "categories": ["user.contact.emial"], "countries": ["XX"], "authorised_on": "2026-13-01"},
            {"party_id": "no-such-party", "categories": ["user.contact"], "services": ["nope"], "countries": ["SG"]},
            {"party_id": sub["id"], "categories": [], "countries": [], "objection_deadline": "soon"},
            {"party_id": sub["id"], "categories": ["user.contact"], "countries": ["SG"]},
        ])).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.is_problem());
        let mut fields = r.error_fields();
        fields.sort();
        assert_eq!(fields, vec![
            "sub_processors[0].authorised_on", "sub_processors[0].countries[0]",
            "sub_processors[2].categories", "sub_processors[2].countries", "sub_processors[2].objection_deadline",
        ], "the fields' own rules first, all at once");
        let r = put(&app, &vendor, &app.carol(), json!([
            {"party_id": vendor["id"], "categories": ["user.contact.emial"], "countries": ["SG"]},
            {"party_id": "no-such-party", "categories": ["user.contact"], "services": ["nope"], "countries": ["SG"]},
            {"party_id": sub["id"], "categories": ["user.contact"], "countries": ["SG"]},
            {"party_id": sub["id"], "categories": ["user.contact"], "countries": ["SG"]},
        ])).await;
        assert_eq!(r.status, 422, "{}", r.text);
        let mut fields = r.error_fields();
        fields.sort();
        assert_eq!(fields, vec![
            "sub_processors[0].categories[0]", "sub_processors[0].party_id",
            "sub_processors[1].party_id", "sub_processors[1].services[0]", "sub_processors[3].party_id",
        ]);
        assert!(r.text.contains("did you mean"), "an unknown key gets its hint: {}", r.text);

        // The version is required and must be current; an unknown party is a 404.
        let req = actix_web::test::TestRequest::put()
            .uri(&format!("/v1/parties/{}/sub-processors", id(&vendor)))
            .insert_header(("Authorization", format!("Bearer {}", app.carol())))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(json!({"sub_processors": []}).to_string());
        assert_eq!(app.send(req).await.status, 428);
        let req = actix_web::test::TestRequest::put()
            .uri("/v1/parties/no-such-party/sub-processors")
            .insert_header(("Authorization", format!("Bearer {}", app.carol())))
            .insert_header(("If-Match", "\"1\""))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(json!({"sub_processors": []}).to_string());
        assert_eq!(app.send(req).await.status, 404);

        let v = put_ok(&app, &vendor, entry(&sub, json!(day(0)), &["SG"])).await;
        let events = app.get("/v1/audit/events?action=party.sub_processors_changed", &app.auditor()).await;
        let items = events.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}", events.text);
        assert_eq!(items[0]["subject"], format!("party:{}", id(&vendor)));
        assert_eq!(items[0]["change"]["sub_processors"], v["sub_processors"]);
        assert_eq!(items[0]["change"]["version"], v["version"]);
    }
}

on_each_backend! {
    async fn an_evaluation_as_of_before_the_sub_processor_was_named_approves(app: TestApp) {
        let (vendor, sub) = world(&app).await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(3)).await;
        let before = Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        actix_web::rt::time::sleep(std::time::Duration::from_millis(3)).await;
        put_ok(&app, &vendor, entry(&sub, json!(day(-1)), &["SG"])).await;
        let mut body = ask(&vendor, "user.contact.email");
        body["service"] = json!("newsletter");
        let now = app.post("/v1/sharing-requests/evaluate", &app.alice(), &body).await;
        assert_eq!(now.body["outcome"], "denied", "{}", now.text);
        let then = app
            .post(&format!("/v1/sharing-requests/evaluate?as_of={}", before.replace(':', "%3A")), &app.alice(), &body)
            .await;
        assert_eq!(then.status, 200, "{}", then.text);
        assert_eq!(then.body["outcome"], "approved", "{}", then.text);
    }
}

on_each_backend! {
    async fn a_service_publishes_its_authorised_trusted_sub_processors_and_reminders_show_deadlines(app: TestApp) {
        let (vendor, sub) = world(&app).await;
        let sub = app.set_status(&sub, "trusted").await;
        let other = app.party(json!({"legal_name": "Announced Ltd", "country": "SG", "data_locations": ["SG"]})).await;
        let other = app.set_status(&other, "trusted").await;
        put_ok(&app, &vendor, json!([
            {"party_id": sub["id"], "categories": ["user.contact.email"], "services": ["newsletter"], "countries": ["SG"], "authorised_on": day(0)},
            {"party_id": other["id"], "categories": ["user.contact"], "countries": ["SG"], "objection_deadline": day(14)},
        ])).await;
        let r = app.get("/v1/services/newsletter/sub-processors", &app.token("service", "newsletter")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body, json!([{"legal_name": "Cloud Mail SG Pte Ltd", "party_id": sub["id"], "country": "SG",
            "countries": ["SG"], "categories": ["user.contact.email"], "on_behalf_of": "Acme Mail Ltd",
            "authorised_on": day(0)}]), "the announced one is not published yet");
        // billing's data does not go to the first; the second is not authorised.
        let r = app.get("/v1/services/billing/sub-processors", &app.auditor()).await;
        assert_eq!(r.body, json!([]), "{}", r.text);
        let r = app.get("/v1/services/billing/sub-processors", &app.token("service", "newsletter")).await;
        assert_eq!(r.status, 403);
        assert_eq!(app.get("/v1/services/nope/sub-processors", &app.auditor()).await.status, 404);

        let due = |within: i64| {
            let app = &app;
            async move {
                let r = app.get(&format!("/v1/reminders?within_days={within}"), &app.alice()).await;
                assert_eq!(r.status, 200, "{}", r.text);
                r.body["items"].as_array().cloned().unwrap()
                    .into_iter().filter(|x| x["kind"] == "objection_deadline").collect::<Vec<_>>()
            }
        };
        assert!(due(13).await.is_empty(), "fourteen days ahead is outside a 13-day window");
        let found = due(14).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["due"], day(14));
        assert_eq!(found[0]["object_id"], other["id"]);
        assert_eq!(found[0]["party_id"], vendor["id"]);
    }
}
