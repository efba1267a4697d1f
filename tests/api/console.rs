//! The console (#19): the session cookie, CSRF, roles deciding what each page shows and allows,
//! four eyes, and forms judged by the API's own rules. The same flows in a real browser, with
//! accessibility checks, are `tests/browser/console.test.mjs`.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::disclosures::counsel;
use crate::helpers::{Resp, TestApp, on_each_backend};

/// A console page as the holder of `token` sees it.
async fn page(app: &TestApp, path: &str, token: &str) -> Resp {
    app.send(
        TestRequest::default()
            .method(Method::GET)
            .uri(path)
            .insert_header(("Cookie", format!("vr_console={token}"))),
    )
    .await
}

/// The CSRF token a page's forms carry.
fn csrf_in(page: &Resp) -> String {
    let at = page
        .text
        .find(r#"name="csrf" value=""#)
        .expect("the page carries a CSRF token");
    let rest = &page.text[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// A form posted from the console's own page (same origin), with `fields`.
async fn post_form(
    app: &TestApp,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Resp {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut req = TestRequest::default()
        .method(Method::POST)
        .uri(path)
        .insert_header(("Cookie", format!("vr_console={token}")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(body);
    for h in headers {
        req = req.insert_header(*h);
    }
    app.send(req).await
}

/// Posts `fields` with the CSRF token of `token`'s home page.
async fn submit(app: &TestApp, path: &str, token: &str, fields: &[(&str, &str)]) -> Resp {
    let csrf = csrf_in(&page(app, "/console", token).await);
    let mut all = fields.to_vec();
    all.push(("csrf", &csrf));
    post_form(app, path, token, &all, &[]).await
}

const VENDOR: &[(&str, &str)] = &[
    ("kind", "third_party"),
    ("legal_name", "Console Mail Ltd"),
    ("country", "CN"),
    ("data_locations", "CN, US"),
    ("privacy_policy_url", "https://console.example/privacy"),
    ("contact_email", "dpo@console.example"),
    ("risk_tier", "medium"),
];

/// What a refused post was, its fields, its extra headers.
type Refusal<'a> = (&'a str, Vec<(String, String)>, Vec<(&'a str, &'a str)>);

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

async fn party_count(app: &TestApp) -> usize {
    let r = app.get("/v1/parties", &app.admin()).await;
    r.body["items"].as_array().unwrap().len()
}

on_each_backend! {
    async fn signing_in_keeps_the_token_in_a_strict_http_only_cookie(app: TestApp) {
        let token = app.alice();
        let sign_in = |headers: Vec<(&'static str, &'static str)>, token: String| {
            let mut req = TestRequest::default()
                .method(Method::POST)
                .uri("/console/session")
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(format!("token={token}"));
            for h in headers {
                req = req.insert_header(h);
            }
            req
        };
        let r = app.send(sign_in(vec![], token.clone())).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "[{}] {}", app.backend, r.text);
        assert_eq!(r.header("location").as_deref(), Some("/console"));
        let cookie = r.header("set-cookie").unwrap();
        assert!(cookie.starts_with(&format!("vr_console={token};")), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
            assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain http: no Secure, {cookie}");
        // Behind TLS (the proxy says so) the cookie is Secure too.
        let r = app
            .send(sign_in(vec![("X-Forwarded-Proto", "https")], token.clone()))
            .await;
        assert!(r.header("set-cookie").unwrap().contains("Secure"));

        // A token that does not verify is refused beside the field, and nothing is kept.
        let r = app.send(sign_in(vec![], format!("{token}x"))).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.header("set-cookie").is_none());
        assert!(r.text.contains(r#"id="e-token""#) && r.text.contains("is invalid or expired"), "{}", r.text);
        // A sign-in posted from another site is refused before the token is read.
        let r = app
            .send(sign_in(vec![("Sec-Fetch-Site", "cross-site")], token.clone()))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.header("set-cookie").is_none());

        // No session, or one whose token no longer verifies: to the sign-in page.
        let r = app.send(TestRequest::default().uri("/console/parties")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.header("location").as_deref(), Some("/console/sign-in"));
        let r = page(&app, "/console/parties", &format!("{token}x")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "a token that does not verify ends the session");
        assert_eq!(r.header("location").as_deref(), Some("/console/sign-in"));

        let home = page(&app, "/console", &token).await;
        assert_eq!(home.status, StatusCode::OK);
        assert_eq!(home.header("cache-control").as_deref(), Some("no-store"));
        assert!(home.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(csrf_in(&home), vendor_registry::api::console::csrf_of(&token));
    }
}

on_each_backend! {
    async fn a_form_without_its_csrf_token_or_from_another_origin_changes_nothing(app: TestApp) {
        let alice = app.alice();
        let csrf = csrf_in(&page(&app, "/console", &alice).await);
        let other = vendor_registry::api::console::csrf_of(&app.bob());
        let with = |token: &str| {
            let mut f = VENDOR.to_vec();
            f.push(("csrf", token));
            f.into_iter().map(|(a, b)| (a.to_owned(), b.to_owned())).collect::<Vec<_>>()
        };
        let refusals: Vec<Refusal> = vec![
            ("no token", with("").into_iter().filter(|(k, _)| k != "csrf").collect(), vec![]),
            ("another session's token", with(&other), vec![]),
            ("the right token from another origin", with(&csrf), vec![("Origin", "https://evil.example")]),
            ("the right token, cross-site", with(&csrf), vec![("Sec-Fetch-Site", "cross-site")]),
        ];
        for (what, fields, headers) in &refusals {
            let r = post_form(&app, "/console/parties", &alice, &as_refs(fields), headers).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "[{}] {what}: {}", app.backend, r.text);
            assert!(r.text.contains("CSRF token"), "{what}: {}", r.text);
            assert_eq!(party_count(&app).await, 0, "{what}: nothing was registered");
        }
        // The same form from the console's page, same origin, is registered as alice.
        let r = post_form(&app, "/console/parties", &alice, &as_refs(&with(&csrf)),
            &[("Origin", "http://localhost:8080"), ("Host", "localhost:8080"), ("Sec-Fetch-Site", "same-origin")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "[{}] {}", app.backend, r.text);
        let list = app.get("/v1/parties", &app.admin()).await;
        let party = &list.body["items"][0];
        assert_eq!(party["legal_name"], "Console Mail Ltd");
        assert_eq!(party["created_by"], "alice");
        assert_eq!(party["data_locations"], json!(["CN", "US"]));
        assert_eq!(r.header("location").unwrap(), format!("/console/parties/{}", party["id"].as_str().unwrap()));
    }
}

on_each_backend! {
    async fn a_refused_form_shows_the_apis_own_field_errors_beside_its_fields(app: TestApp) {
        let alice = app.alice();
        let mut fields = VENDOR.to_vec();
        fields.retain(|(k, _)| *k != "legal_name" && *k != "country" && *k != "privacy_policy_url");
        fields.push(("country", "XX"));
        fields.push(("privacy_policy_url", "http://plain.example"));
        let r = submit(&app, "/console/parties", &alice, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "[{}] {}", app.backend, r.text);
        // What the API says of the same body, word for word, each beside its field.
        let api = app
            .post("/v1/parties", &alice, &json!({"kind": "third_party", "country": "XX",
                "data_locations": ["CN", "US"], "privacy_policy_url": "http://plain.example",
                "contact_email": "dpo@console.example", "risk_tier": "medium"}))
            .await;
        assert_eq!(api.status, 422);
        let errors = api.body["errors"].as_array().unwrap();
        assert!(errors.len() >= 2, "{}", api.text);
        for e in errors {
            let field = e["field"].as_str().unwrap();
            let message = maud::html! { (e["message"].as_str().unwrap()) }.into_string();
            let beside = format!(r#"id="e-{field}""#);
            assert!(r.text.contains(&beside), "no error beside {field}: {}", r.text);
            assert!(r.text.contains(&message), "{field}: {message} not shown");
        }
        assert!(r.text.contains(r#"aria-invalid="true""#));
        // What was typed is kept.
        assert!(r.text.contains(r#"value="dpo@console.example""#));
        assert_eq!(party_count(&app).await, 0);
    }
}

on_each_backend! {
    async fn roles_decide_what_each_page_shows_and_allows(app: TestApp) {
        app.party(json!({})).await;
        let auditor = app.auditor();
        let vendors = page(&app, "/console/parties", &auditor).await;
        assert_eq!(vendors.status, StatusCode::OK, "[{}] {}", app.backend, vendors.text);
        assert!(vendors.text.contains("Acme Mail Ltd"));
        assert!(!vendors.text.contains("/console/parties/new"), "an auditor registers nothing");
        let r = submit(&app, "/console/parties", &auditor, VENDOR).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(party_count(&app).await, 1);
        let alice = page(&app, "/console/parties", &app.alice()).await;
        assert!(alice.text.contains("/console/parties/new"));

        // A service may not read the register in the API, nor here; its menu says what it may.
        let service = app.token("service", "newsletter");
        assert_eq!(page(&app, "/console/parties", &service).await.status, StatusCode::FORBIDDEN);
        let home = page(&app, "/console", &service).await;
        assert!(home.text.contains("/console/evaluate") && home.text.contains("/console/decisions"));
        assert!(!home.text.contains(r#"href="/console/parties""#) && !home.text.contains("/console/ledger"));
        // Counsel's incident desk is closed to a service; the ledger to procurement.
        assert_eq!(page(&app, "/console/incidents", &service).await.status, StatusCode::FORBIDDEN);
        assert_eq!(page(&app, "/console/ledger", &app.alice()).await.status, StatusCode::FORBIDDEN);
        assert_eq!(page(&app, "/console/ledger", &auditor).await.status, StatusCode::OK);
    }
}

/// The approve forms of a vendor page.
fn approve_buttons(page: &Resp) -> usize {
    page.text.matches("/approve\"").count()
}

on_each_backend! {
    async fn four_eyes_the_asker_gets_no_approve_button_and_the_command_refuses_them(app: TestApp) {
        app.service("newsletter", &["marketing"]).await;
        let party = app.party(json!({})).await;
        let id = party["id"].as_str().unwrap();
        let path = format!("/console/parties/{id}");
        let (alice, bob) = (app.alice(), app.bob());
        // The registrant is not offered "trusted"; another officer is.
        assert!(!page(&app, &path, &alice).await.text.contains(r#"value="trusted""#));
        assert!(page(&app, &path, &bob).await.text.contains(r#"value="trusted""#));
        let r = submit(&app, &format!("{path}/status"), &bob,
            &[("status", "trusted"), ("reason", "DD-1 done"), ("version", "1")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "[{}] {}", app.backend, r.text);
        assert_eq!(app.get(&format!("/v1/parties/{id}"), &bob).await.body["status"], "trusted");

        let r = submit(&app, &format!("{path}/grants"), &bob, &[("service", "newsletter"),
            ("categories", "user.contact.email"), ("allowed_regions", "US"), ("allowed_regions", "PRC")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "[{}] {}", app.backend, r.text);
        let grants = app.get(&format!("/v1/parties/{id}/grants"), &bob).await;
        let grant = grants.body["items"][0].clone();
        assert_eq!(grant["effective"], "pending_approval");
        assert_eq!(grant["requested_by"], "bob");
        assert_eq!(grant["allowed_regions"], json!(["US", "PRC"]));

        assert_eq!(approve_buttons(&page(&app, &path, &bob).await), 0, "no button for the asker");
        assert_eq!(approve_buttons(&page(&app, &path, &alice).await), 1);
        let approve = format!("/console/grants/{}/approve", grant["id"].as_str().unwrap());
        let r = submit(&app, &approve, &bob, &[("version", "1")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "the command refuses the asker: {}", r.text);
        assert!(r.text.contains("role=\"alert\""));
        let still = app.get(&format!("/v1/grants/{}", grant["id"].as_str().unwrap()), &bob).await;
        assert_eq!(still.body["effective"], "pending_approval");
        let r = submit(&app, &approve, &alice, &[("version", "1")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "[{}] {}", app.backend, r.text);
        let done = app.get(&format!("/v1/grants/{}", grant["id"].as_str().unwrap()), &bob).await;
        assert_eq!(done.body["effective"], "active");
        assert_eq!(done.body["approved_by"], "alice");
        // A stale version is the API's 412, shown on the page.
        let r = submit(&app, &format!("{path}/status"), &alice, &[("status", "suspended"), ("version", "1")]).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.text);
    }
}

async fn trusted_world(app: &TestApp) -> Value {
    app.entity("acme-us", "US").await;
    app.service_for("newsletter", &["marketing"], &["acme-us"])
        .await;
    let party = app
        .party(json!({"country": "US", "data_locations": ["US"]}))
        .await;
    let party = app.set_status(&party, "trusted").await;
    app.grant(
        &party,
        json!({"service": "newsletter", "categories": ["user.contact.email"],
        "allowed_regions": ["US"]}),
    )
    .await;
    party
}

fn ask(party: &Value, category: &str) -> Value {
    json!({"party_id": party["id"], "purpose": "marketing.communications.email",
        "categories": [category], "destination_country": "US", "subject_country": "US", "subject_count": 10})
}

on_each_backend! {
    async fn would_this_be_approved_shows_every_reason_its_rule_and_its_remedy(app: TestApp) {
        let party = trusted_world(&app).await;
        let service = app.token("service", "newsletter");
        let fields = [("party_id", party["id"].as_str().unwrap()), ("purpose", "marketing.communications.email"),
            ("categories", "user.financial"), ("destination_country", "US"), ("subject_country", "US"),
            ("subject_count", "10")];
        let r = submit(&app, "/console/evaluate", &service, &fields).await;
        assert_eq!(r.status, StatusCode::OK, "[{}] {}", app.backend, r.text);
        let api = app.post("/v1/sharing-requests/evaluate", &service, &ask(&party, "user.financial")).await;
        assert_eq!(api.body["outcome"], "denied");
        assert!(r.text.contains("b-denied"));
        for reason in api.body["reasons"].as_array().unwrap() {
            assert!(r.text.contains(reason["code"].as_str().unwrap()));
            let remedy = reason["remedy"]["action"].as_str().unwrap();
            assert!(r.text.contains(&maud::html! { (remedy) }.into_string()), "remedy {remedy} shown");
        }
        let entries = app.get("/v1/audit/events", &app.auditor()).await;
        let before = entries.body["items"].as_array().unwrap().len();
        // Nothing was recorded; a service evaluates only as itself.
        assert_eq!(app.get("/v1/sharing-requests", &app.auditor()).await.body["items"], json!([]));
        let mut other = fields.to_vec();
        other.push(("service", "payroll"));
        let r = submit(&app, "/console/evaluate", &service, &other).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert_eq!(app.get("/v1/audit/events", &app.auditor()).await.body["items"].as_array().unwrap().len(), before);
    }
}

on_each_backend! {
    async fn counsel_opens_an_incident_and_sees_the_vendor_suspended_and_the_exposure(app: TestApp) {
        let party = trusted_world(&app).await;
        let r = app.share("newsletter", ask(&party, "user.contact.email")).await;
        assert_eq!(r.body["outcome"], "approved", "{}", r.text);
        let legal = counsel(&app);
        let r = submit(&app, "/console/incidents", &legal, &[("party_id", party["id"].as_str().unwrap()),
            ("title", "Mail vendor breached"), ("became_aware_at", "2026-12-01T08:00:00Z"),
            ("severity", "high"), ("categories", "user.contact.email")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "[{}] {}", app.backend, r.text);
        let at = r.header("location").unwrap();
        let id = at.rsplit('/').next().unwrap().to_owned();
        let p = page(&app, &at, &legal).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        assert!(p.text.contains("b-suspended"), "the vendor is shown suspended");
        assert!(p.text.contains("This incident suspended it."));
        assert!(p.text.contains("user.contact.email") && p.text.contains("newsletter"));
        // The vendor list counts its open incident and filters by it.
        let listed = page(&app, "/console/parties?open_incidents=1", &app.auditor()).await;
        assert!(listed.text.contains(&format!("/console/parties/{}\"", party["id"].as_str().unwrap())), "{}", listed.text);
        assert!(listed.text.contains("<td>1</td></tr>"), "one open incident: {}", listed.text);
        let api = app.get(&format!("/v1/incidents/{id}/exposure"), &legal).await;
        assert_eq!(api.body["decisions"], 1);
        let csv = page(&app, &format!("/console/incidents/{id}/exposure.csv"), &legal).await;
        let api_csv = app.get(&format!("/v1/incidents/{id}/exposure?format=csv"), &legal).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.text, api_csv.text, "the console's CSV is the API's");
        assert!(csv.text.lines().count() == 2, "{}", csv.text);
        // A refused incident (no categories) is shown with the API's error, and nothing opens.
        let r = submit(&app, "/console/incidents", &legal, &[("party_id", party["id"].as_str().unwrap()),
            ("title", "x"), ("became_aware_at", "2026-12-01T08:00:00Z"), ("severity", "high")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text.contains(r#"id="e-categories""#), "{}", r.text);
        assert_eq!(app.get("/v1/incidents", &legal).await.body["items"].as_array().unwrap().len(), 1);
    }
}

on_each_backend! {
    async fn an_auditor_filters_the_decision_log_and_opens_a_proof(app: TestApp) {
        let party = trusted_world(&app).await;
        let approved = app.share("newsletter", ask(&party, "user.contact.email")).await;
        let denied = app.share("newsletter", ask(&party, "user.financial")).await;
        assert_eq!(denied.body["outcome"], "denied");
        let auditor = app.auditor();
        let all = page(&app, "/console/decisions", &auditor).await;
        let link = |d: &Resp| format!("/console/decisions/{}", d.body["id"].as_str().unwrap());
        assert!(all.text.contains(&link(&approved)) && all.text.contains(&link(&denied)));
        let only = page(&app, "/console/decisions?outcome=denied", &auditor).await;
        assert!(only.text.contains(&link(&denied)) && !only.text.contains(&link(&approved)));
        let bad = page(&app, "/console/decisions?outcome=maybe", &auditor).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text.contains(r#"id="e-outcome""#));

        let d = page(&app, &link(&denied), &auditor).await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text);
        let seq = denied.body["ledger_seq"].as_i64().unwrap();
        let proof = app.get(&format!("/v1/audit/proof/{seq}"), &auditor).await;
        assert!(d.text.contains(proof.body["leaf_hash"].as_str().unwrap()), "the proof's leaf hash");
        assert!(d.text.contains("category_not_granted"));
        // Another service's decision is not found for a service, as in the API.
        let other = app.token("service", "payroll");
        assert_eq!(page(&app, &link(&denied), &other).await.status, StatusCode::NOT_FOUND);

        // The exports are the API's, with the log's filters.
        let csv = page(&app, "/console/exports/decisions.csv?outcome=denied", &auditor).await;
        let api = app.get("/v1/exports/decisions.csv?outcome=denied", &auditor).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!((csv.text.lines().count(), &csv.text), (2, &api.text));
        assert!(only.text.contains("/console/exports/decisions.csv?outcome=denied"));
        let register = page(&app, "/console/exports/register.csv", &auditor).await;
        assert_eq!(register.text, app.get("/v1/exports/register.csv", &auditor).await.text);
        assert_eq!(page(&app, "/console/exports/register.csv", &app.alice()).await.status, StatusCode::FORBIDDEN);

        let ledger = page(&app, "/console/ledger?verify=1", &auditor).await;
        assert!(ledger.text.contains("Verified."), "{}", ledger.text);
        assert!(ledger.text.contains("no witness has cosigned it yet."), "the witness status: {}", ledger.text);
    }
}

on_each_backend! {
    async fn a_provider_session_opens_the_console_and_nothing_else(app: TestApp) {
        // Without a configured provider there is no provider sign-in.
        let r = app.send(TestRequest::default().uri("/console/oidc/start")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let sign_in = app.send(TestRequest::default().uri("/console/sign-in")).await;
        assert!(!sign_in.text.contains("/console/oidc/start"));

        let person = vendor_registry::auth::Principal {
            sub: "alice@example.com".into(),
            roles: vec![vendor_registry::auth::Role::Auditor],
        };
        let now = jsonwebtoken::get_current_timestamp();
        let session = app.state.console.mint(&person, now);
        let home = page(&app, "/console", &session).await;
        assert_eq!(home.status, StatusCode::OK, "[{}] {}", app.backend, home.text);
        assert!(home.text.contains("alice@example.com") && home.text.contains("(auditor)"));
        // A console session is no bearer token of the API.
        let api = app.get("/v1/parties", &session).await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED);
        // One that has run out ends at the sign-in page.
        let old = app.state.console.mint(&person, now - 8 * 3600);
        assert_eq!(page(&app, "/console", &old).await.status, StatusCode::SEE_OTHER);
    }
}

on_each_backend! {
    async fn editing_a_vendor_changes_its_record_and_clears_an_emptied_field(app: TestApp) {
        let party = app.party(json!({"contract_reference": "MSA-1", "next_review_due": "2027-06-30"})).await;
        let id = party["id"].as_str().unwrap();
        let alice = app.alice();
        let form = page(&app, &format!("/console/parties/{id}/edit"), &alice).await;
        assert_eq!(form.status, StatusCode::OK, "[{}] {}", app.backend, form.text);
        for shown in [r#"value="MSA-1""#, r#"value="2027-06-30""#, r#"value="CN, US""#, r#"name="version" value="1""#] {
            assert!(form.text.contains(shown), "{shown}");
        }
        let mut fields: Vec<(&str, &str)> = VENDOR.to_vec();
        fields.retain(|(k, _)| *k != "risk_tier" && *k != "legal_name");
        fields.extend([("legal_name", "Acme Mail Ltd"), ("risk_tier", "high"), ("contract_reference", ""),
            ("next_review_due", "2027-01-31"), ("version", "1")]);
        let r = submit(&app, &format!("/console/parties/{id}/edit"), &alice, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "[{}] {}", app.backend, r.text);
        let now = app.get(&format!("/v1/parties/{id}"), &alice).await.body;
        assert_eq!(now["risk_tier"], "high");
        assert_eq!(now["contract_reference"], Value::Null, "emptied: cleared");
        assert_eq!(now["next_review_due"], "2027-01-31");
        assert_eq!(now["version"], 2);
        // The same form again, on the version it was read at: the API's 412, nothing changed.
        let r = submit(&app, &format!("/console/parties/{id}/edit"), &alice, &fields).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.text);
        assert!(r.text.contains("Precondition Failed"));
        assert_eq!(app.get(&format!("/v1/parties/{id}"), &alice).await.body["version"], 2);
        // An auditor is shown no edit link and may not post the form.
        let seen = page(&app, &format!("/console/parties/{id}"), &app.auditor()).await;
        assert!(!seen.text.contains("/edit\""));
        let r = submit(&app, &format!("/console/parties/{id}/edit"), &app.auditor(), &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

on_each_backend! {
    async fn an_import_is_previewed_and_written_only_from_the_preview(app: TestApp) {
        // The export of another register is the spreadsheet.
        let other = app.fresh().await;
        other.service("newsletter", &["marketing"]).await;
        other.party(json!({"legal_name": "Imported Mail Ltd", "external_ref": "crm:1"})).await;
        let exported = other.get("/v1/exports/register.csv", &other.admin()).await.text;
        // As a new register: no party ids of the other one.
        let mut reader = csv::Reader::from_reader(exported.as_bytes());
        let header = reader.headers().unwrap().clone();
        let at = header.iter().position(|h| h == "party_id").unwrap();
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(&header).unwrap();
        for row in reader.records() {
            let row = row.unwrap();
            out.write_record(row.iter().enumerate().map(|(i, v)| if i == at { "" } else { v })).unwrap();
        }
        let csv = String::from_utf8(out.into_inner().unwrap()).unwrap();
        app.service("newsletter", &["marketing"]).await;
        let alice = app.alice();
        let r = submit(&app, "/console/imports", &alice, &[("csv", &csv), ("mode", "all_or_nothing"), ("action", "preview")]).await;
        assert_eq!(r.status, StatusCode::OK, "[{}] {}", app.backend, r.text);
        assert!(r.text.contains("Nothing has been written yet."), "{}", r.text);
        assert!(r.text.contains(r#"value="import""#), "the preview offers the import: {}", r.text);
        assert_eq!(party_count(&app).await, 0, "a preview writes nothing");
        let r = submit(&app, "/console/imports", &alice, &[("csv", &csv), ("mode", "all_or_nothing"), ("action", "import")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.text.contains("<h1>Imported</h1>"), "{}", r.text);
        let list = app.get("/v1/parties", &app.admin()).await;
        assert_eq!(list.body["items"][0]["legal_name"], "Imported Mail Ltd");
        assert_eq!(list.body["items"][0]["created_by"], "alice");
        // A defective row: the preview names it and offers no import (all or nothing).
        let bad = csv.replacen("Imported Mail Ltd", "", 1).replacen(",CN,", ",XX,", 1);
        let r = submit(&app, "/console/imports", &alice, &[("csv", &bad), ("mode", "all_or_nothing"), ("action", "preview")]).await;
        assert!(r.text.contains("1 rejected"), "{}", r.text);
        assert!(!r.text.contains(r#"value="import""#));
    }
}
