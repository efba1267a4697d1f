use actix_web::http::Method;
use actix_web::test::TestRequest;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

fn secret(app: &TestApp) -> Vec<u8> {
    std::fs::read(app.dir.path().join("jwt-secret")).expect("generated secret")
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn signed(app: &TestApp, claims: serde_json::Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(&secret(app)),
    )
    .unwrap()
}

fn good_claims() -> serde_json::Value {
    json!({"sub": "alice", "roles": ["procurement"], "exp": now() + 600, "iat": now(),
        "iss": "vendor-registry", "aud": "vendor-registry"})
}

on_each_backend! {
    async fn a_request_without_a_token_is_401_with_www_authenticate(app: TestApp) {
        let r = app
            .request(Method::GET, "/v1/parties", None, None, None)
            .await;
        assert_eq!(r.status, 401, "[{}]", app.backend);
        assert!(r.is_problem());
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
}

#[actix_web::test]
async fn the_generated_secret_is_private_to_its_owner() {
    let app = TestApp::sqlite().await;
    let meta = std::fs::metadata(app.dir.path().join("jwt-secret")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(secret(&app).len() >= 32);
}

#[actix_web::test]
async fn tokens_missing_a_claim_or_with_wrong_issuer_audience_or_times_are_401() {
    let app = TestApp::sqlite().await;
    let mut cases = Vec::new();
    for claim in ["sub", "roles", "exp", "iat", "iss", "aud"] {
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove(claim);
        cases.push((format!("missing {claim}"), c));
    }
    let mut c = good_claims();
    c["iss"] = json!("someone-else");
    cases.push(("wrong iss".into(), c));
    let mut c = good_claims();
    c["aud"] = json!("other-api");
    cases.push(("wrong aud".into(), c));
    let mut c = good_claims();
    c["exp"] = json!(now() - 31);
    cases.push(("expired beyond leeway".into(), c));
    let mut c = good_claims();
    c["nbf"] = json!(now() + 31);
    cases.push(("not yet valid beyond leeway".into(), c));
    let mut c = good_claims();
    c["iat"] = json!(now() + 120);
    cases.push(("issued in the future".into(), c));
    let mut c = good_claims();
    c["exp"] = json!((now() + 600).to_string());
    cases.push(("exp as a string".into(), c));
    for (name, claims) in cases {
        let token = signed(&app, claims);
        let r = app.get("/v1/parties", &token).await;
        assert_eq!(r.status, 401, "{name}: {}", r.text);
    }
    let r = app.get("/v1/parties", &signed(&app, good_claims())).await;
    assert_eq!(r.status, 200, "a good token passes: {}", r.text);
}

#[actix_web::test]
async fn leeway_is_thirty_seconds_on_exp() {
    let app = TestApp::sqlite().await;
    let mut c = good_claims();
    c["exp"] = json!(now() - 20);
    assert_eq!(app.get("/v1/parties", &signed(&app, c)).await.status, 200);
    let mut c = good_claims();
    c["exp"] = json!(now() - 40);
    assert_eq!(app.get("/v1/parties", &signed(&app, c)).await.status, 401);
}

#[actix_web::test]
async fn forged_and_malformed_tokens_are_401() {
    let app = TestApp::sqlite().await;
    let good = signed(&app, good_claims());
    let parts: Vec<&str> = good.split('.').collect();
    let none_header = base64url(r#"{"alg":"none","typ":"JWT"}"#);
    let kid_token = {
        let h = Header {
            kid: Some("other".into()),
            ..Header::default()
        };
        encode(&h, &good_claims(), &EncodingKey::from_secret(&secret(&app))).unwrap()
    };
    let wrong_key = encode(
        &Header::default(),
        &good_claims(),
        &EncodingKey::from_secret(&[7u8; 32]),
    )
    .unwrap();
    let cases = vec![
        ("alg none", format!("{none_header}.{}.", parts[1])),
        ("stripped signature", format!("{}.{}.", parts[0], parts[1])),
        ("wrong key", wrong_key),
        ("unknown kid", kid_token),
        ("garbage", "not-a-token".to_owned()),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
    ];
    for (name, token) in cases {
        let r = app.get("/v1/parties", &token).await;
        assert_eq!(r.status, 401, "{name}");
        assert!(r.is_problem(), "{name}");
    }
    let r = app
        .send(
            TestRequest::get()
                .uri("/v1/parties")
                .insert_header(("Authorization", format!("Basic {good}"))),
        )
        .await;
    assert_eq!(r.status, 401, "another scheme");
}

fn base64url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[actix_web::test]
async fn a_valid_token_without_a_known_role_is_403() {
    let app = TestApp::sqlite().await;
    let r = app.get("/v1/parties", &app.token("janitor", "joe")).await;
    assert_eq!(r.status, 403);
    assert!(r.is_problem());
}

on_each_backend! {
    async fn roles_limit_operations(app: TestApp) {
        let auditor = app.auditor();
        let service = app.token("service", "newsletter");
        assert_eq!(app.get("/v1/parties", &auditor).await.status, 200);
        assert_eq!(
            app.post("/v1/parties", &auditor, &crate::helpers::valid_party())
                .await
                .status,
            403
        );
        assert_eq!(app.get("/v1/parties", &service).await.status, 403);
        assert_eq!(
            app.get("/v1/taxonomy/categories", &service).await.status,
            200
        );
        assert_eq!(app.get("/v1/audit/events", &app.alice()).await.status, 403);
        assert_eq!(
            app.post("/v1/services", &app.alice(), &json!({}))
                .await
                .status,
            403
        );
        let admin_share = app
            .post("/v1/sharing-requests", &app.admin(), &json!({}))
            .await;
        assert_eq!(
            admin_share.status, 403,
            "only services file sharing requests"
        );
    }
}

#[actix_web::test]
async fn the_role_check_comes_before_the_body_is_judged() {
    let app = TestApp::sqlite().await;
    let r = app
        .send(
            TestRequest::post()
                .uri("/v1/parties")
                .insert_header(("Authorization", format!("Bearer {}", app.auditor())))
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("{not json"),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .request(
            Method::POST,
            "/v1/parties",
            None,
            Some(&json!({"x": 1})),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
}
