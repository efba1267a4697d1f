use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::TestApp;

fn authed(app: &TestApp, req: TestRequest) -> TestRequest {
    req.insert_header(("Authorization", format!("Bearer {}", app.alice())))
}

#[actix_web::test]
async fn framework_errors_are_problems_in_the_documented_order() {
    let app = TestApp::sqlite().await;
    let r = app.request(Method::GET, "/nowhere", None, None, None).await;
    assert_eq!(r.status, 404);
    assert!(r.is_problem());
    let r = app
        .request(
            Method::DELETE,
            "/v1/parties",
            Some(&app.alice()),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 405);
    assert!(r.is_problem());
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    let r = app
        .send(
            authed(&app, TestRequest::post().uri("/v1/parties"))
                .insert_header(("Content-Type", "application/json"))
                .set_payload("{\"kind\": "),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.is_problem());
    let r = app
        .send(
            authed(&app, TestRequest::post().uri("/v1/parties"))
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
    assert_eq!(r.status, 415);
    assert!(r.is_problem());
    let big = format!("{{\"legal_name\": \"{}\"}}", "a".repeat(70_000));
    let r = app
        .send(
            authed(&app, TestRequest::post().uri("/v1/parties"))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(big),
        )
        .await;
    assert_eq!(r.status, 413);
    assert!(r.is_problem());
    let r = app
        .send(
            authed(&app, TestRequest::post().uri("/v1/parties"))
                .insert_header(("Content-Type", "application/json"))
                .set_payload("[1,2]"),
        )
        .await;
    assert_eq!(r.status, 422);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = app
        .send(
            authed(&app, TestRequest::post().uri("/v1/parties"))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(deep),
        )
        .await;
    assert_eq!(r.status, 400, "deep nesting is refused, not a crash");
    let r = app.get("/v1/parties?limit=-1&limit=x", &app.alice()).await;
    assert!(r.status == 400 || r.status == 422);
    assert!(r.is_problem());
}

#[actix_web::test]
async fn not_found_comes_before_preconditions_and_preconditions_before_content() {
    let app = TestApp::sqlite().await;
    let r = app
        .request(
            Method::PATCH,
            "/v1/parties/nope",
            Some(&app.alice()),
            Some(&json!({"bogus": 1})),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let party = app.party(json!({})).await;
    let path = format!("/v1/parties/{}", party["id"].as_str().unwrap());
    let r = app
        .request(
            Method::PATCH,
            &path,
            Some(&app.alice()),
            Some(&json!({"bogus": 1})),
            None,
        )
        .await;
    assert_eq!(r.status, 428);
    let r = app
        .patch_if(&path, &app.alice(), &json!({"bogus": 1}), "\"3\"")
        .await;
    assert_eq!(r.status, 412);
    let r = app
        .patch_if(&path, &app.alice(), &json!({"bogus": 1}), "\"1\"")
        .await;
    assert_eq!(r.status, 422);
}

#[actix_web::test]
async fn every_response_carries_a_request_id_and_echoes_the_clients() {
    let app = TestApp::sqlite().await;
    let r = app
        .send(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("X-Request-Id", "trace-42")),
        )
        .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("trace-42"));
    let r = app.send(TestRequest::get().uri("/v1/parties")).await;
    assert!(r.header("x-request-id").is_some_and(|v| v.len() >= 16));
}

#[actix_web::test]
async fn probes_answer() {
    for app in TestApp::all().await {
        assert_eq!(
            app.request(Method::GET, "/healthz", None, None, None)
                .await
                .status,
            200
        );
        let r = app.request(Method::GET, "/readyz", None, None, None).await;
        assert_eq!(r.status, 200, "[{}]", app.backend);
        assert_eq!(r.body["status"], "ok");
    }
}
