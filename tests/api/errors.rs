use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

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
    // A literal path wins over a pattern it also matches: evaluate is not a decision id.
    let r = app
        .request(
            Method::OPTIONS,
            "/v1/sharing-requests/evaluate",
            Some(&app.alice()),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
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
    // API.md, "the order in which a request is judged": a malformed query parameter is a 400
    // (step 3), a well-formed one out of bounds a 422 (step 6).
    for (query, status) in [
        ("limit=x", 400),
        ("limit=-1&limit=x", 400),
        ("limit=1&limit=2", 400),
        ("limit=-1", 422),
        ("limit=201", 422),
    ] {
        let r = app.get(&format!("/v1/parties?{query}"), &app.alice()).await;
        assert_eq!(r.status, status, "{query}: {}", r.text);
        assert!(r.is_problem(), "{query}");
    }
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

on_each_backend! {
    async fn probes_answer(app: TestApp) {
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

#[actix_web::test]
async fn metrics_count_requests_and_decisions_without_ids_or_principals() {
    let app = TestApp::sqlite().await;
    app.service("newsletter", &["marketing.communications"])
        .await;
    let party = app.party(json!({})).await;
    let id = party["id"].as_str().unwrap();
    app.get(&format!("/v1/parties/{id}"), &app.auditor()).await;
    app.get("/v1/parties/missing", &app.auditor()).await;
    let ask = json!({"party_id": id, "purpose": "marketing.communications", "categories": ["user.name"],
        "destination_country": "US", "subject_country": "US", "subject_count": 1});
    app.share("newsletter", ask).await;
    let r = app.request(Method::GET, "/metrics", None, None, None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text;
    assert!(text.contains(r#"http_request_duration_seconds_count{route="/v1/parties/{id}",method="GET",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"http_request_duration_seconds_count{route="/v1/parties/{id}",method="GET",status="404"} 1"#));
    assert!(text.contains(r#"vendor_registry_decisions_total{outcome="denied"} 1"#));
    assert!(
        text.contains(r#"vendor_registry_decision_reasons_total{code="category_not_granted"} 1"#)
    );
    assert!(text.contains(r#"vendor_registry_decision_reasons_total{code="party_not_trusted"} 1"#));
    assert!(text.contains("vendor_registry_ledger_batch_size_count 1"));
    assert!(text.contains("vendor_registry_db_pool_max 4"));
    assert!(
        !text.contains(id) && !text.contains("alice") && !text.contains("newsletter"),
        "no ids or principals"
    );
}

#[actix_web::test]
async fn extreme_numbers_and_empty_headers_are_clear_4xx() {
    let app = TestApp::sqlite().await;
    let t = app.auditor();
    let r = app
        .get("/v1/audit/proof/-9223372036854775808?size=0", &t)
        .await;
    assert_eq!(r.status, 404, "found by schemathesis: once a 500");
    assert_eq!(
        app.get("/v1/audit/proof/9223372036854775807", &t)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/v1/audit/events?after_seq=-1", &t).await.status,
        422
    );
    assert_eq!(
        app.get("/v1/audit/consistency?from=1&to=9223372036854775807", &t)
            .await
            .status,
        422
    );
    assert_eq!(
        app.get("/v1/audit/export?from_seq=9223372036854775807", &t)
            .await
            .status,
        200
    );
    let party = app.party(json!({})).await;
    let path = format!("/v1/parties/{}", party["id"].as_str().unwrap());
    let r = app
        .send(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {}", app.alice())))
                .insert_header(("Content-Type", "application/json"))
                .insert_header(("If-Match", ""))
                .set_payload("{}"),
        )
        .await;
    assert_eq!(r.status, 428, "an empty If-Match is a missing one");
}
