use actix_web::http::Method;

use crate::helpers::TestApp;

#[actix_web::test]
async fn the_committed_spec_is_the_served_spec() {
    let app = TestApp::sqlite().await;
    let served = app
        .request(Method::GET, "/openapi.json", None, None, None)
        .await;
    assert_eq!(served.status, 200);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    assert!(
        committed == served.text,
        "openapi/openapi.json differs from the served spec: run `cargo run -- openapi > openapi/openapi.json` and review the diff"
    );
}

/// The operations API.md lists with no role.
const PUBLIC: &[&str] = &["/healthz", "/readyz", "/metrics", "/v1/audit/public-key"];

#[actix_web::test]
async fn every_operation_documents_its_roles_summary_and_errors() {
    let spec = vendor_registry::api::openapi();
    let json = serde_json::to_value(&spec).unwrap();
    let mut count = 0;
    for (path, item) in json["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let name = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name} has a summary"
            );
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if !secured {
                assert!(
                    PUBLIC.contains(&path.as_str()),
                    "{name} is public but not meant to be"
                );
            } else {
                assert!(
                    op["x-roles"].as_array().is_some_and(|r| !r.is_empty()),
                    "{name} lists its roles"
                );
                for code in ["401", "403", "503"] {
                    assert!(op["responses"][code].is_object(), "{name} documents {code}");
                }
            }
        }
    }
    assert!(count >= 24, "{count} operations");
    let schemas = json["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ReasonCode") && schemas.contains_key("Problem"));
}

#[actix_web::test]
async fn the_docs_page_and_its_assets_are_served_without_network() {
    let app = TestApp::sqlite().await;
    let page = app.request(Method::GET, "/docs", None, None, None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("/docs/swagger-ui-bundle.js") && page.text.contains("/openapi.json")
    );
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "no outside assets"
    );
    let js = app
        .request(Method::GET, "/docs/swagger-ui-bundle.js", None, None, None)
        .await;
    assert_eq!(js.status, 200);
    assert!(js.text.len() > 1_000_000);
    assert_eq!(
        app.request(Method::GET, "/docs/../Cargo.toml", None, None, None)
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn operation_ids_are_unique() {
    let json = serde_json::to_value(vendor_registry::api::openapi()).unwrap();
    let mut seen = std::collections::HashSet::new();
    for item in json["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone()), "operationId {id} is used twice");
        }
    }
}

#[actix_web::test]
async fn every_schema_carries_a_description_for_auditors() {
    let json = serde_json::to_value(vendor_registry::api::openapi()).unwrap();
    for (name, schema) in json["components"]["schemas"].as_object().unwrap() {
        let described = schema["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty());
        assert!(described, "schema {name} has no description");
    }
    let codes = json["components"]["schemas"]["ReasonCode"]["description"]
        .as_str()
        .unwrap();
    for code in vendor_registry::decision::engine::ALL_CODES {
        assert!(
            codes.contains(&format!("`{code}`")),
            "reason code {code} is described"
        );
    }
}

/// Filters over a closed set name it in the spec (#15: "no `enum` on filters"), so a client and
/// a fuzzer know the values; each is also refused with a 422 when it is none of them.
#[actix_web::test]
async fn closed_set_filters_carry_their_enum() {
    let spec = serde_json::to_value(vendor_registry::api::openapi()).unwrap();
    let enum_of = |path: &str, name: &str| -> Vec<String> {
        let params = spec["paths"][path]["get"]["parameters"].as_array().unwrap();
        let p = params.iter().find(|p| p["name"] == name).unwrap();
        let schema = match p["schema"]["$ref"].as_str() {
            Some(r) => &spec["components"]["schemas"][r.rsplit('/').next().unwrap()],
            None => &p["schema"],
        };
        schema["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} {name}: no enum in {schema}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(enum_of("/v1/parties", "kind"), ["third_party", "affiliate"]);
    assert_eq!(enum_of("/v1/parties", "region"), ["PRC", "US", "OTHER"]);
    assert_eq!(enum_of("/v1/parties", "status").len(), 4);
    assert_eq!(
        enum_of("/v1/sharing-requests", "outcome"),
        ["approved", "denied"]
    );
    assert_eq!(enum_of("/v1/grants", "effective").len(), 5);
    let actions = enum_of("/v1/audit/events", "action");
    for a in [
        "party.created",
        "grant.approved",
        "decision.recorded",
        "vendor_list.imported",
    ] {
        assert!(
            actions.contains(&a.to_owned()),
            "{a} missing from {actions:?}"
        );
    }
}

/// Issue "Answers people can act on", bullet 7: every response shows an example (binary tiles
/// aside); each problem response shows the problem this service sends for that status, and
/// the documented ones are what the service answers, byte for byte.
#[actix_web::test]
async fn every_response_has_an_example_and_problem_examples_are_what_is_sent() {
    let app = TestApp::sqlite().await;
    let json = serde_json::to_value(vendor_registry::api::openapi()).unwrap();
    let mut problems = 0;
    for (path, item) in json["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (code, response) in op["responses"].as_object().unwrap() {
                let contents = response["content"].as_object().cloned().unwrap_or_default();
                for (media, content) in contents {
                    let name = format!("{method} {path} {code} {media}");
                    if media == "application/octet-stream" {
                        continue;
                    }
                    let examples: Vec<serde_json::Value> = match content["examples"].as_object() {
                        Some(named) => named.values().map(|e| e["value"].clone()).collect(),
                        None => vec![content["example"].clone()],
                    };
                    assert!(
                        examples.iter().all(|e| !e.is_null()) && !examples.is_empty(),
                        "{name} shows an example"
                    );
                    if media != "application/problem+json" {
                        continue;
                    }
                    for e in &examples {
                        problems += 1;
                        assert_eq!(e["status"].to_string(), *code, "{name}: {e}");
                        assert!(
                            e["type"]
                                .as_str()
                                .unwrap()
                                .starts_with("urn:vendor-registry:problem:"),
                            "{name}: {e}"
                        );
                        assert!(
                            e["title"].is_string() && e["detail"].is_string(),
                            "{name}: {e}"
                        );
                        match code.as_str() {
                            "412" => assert!(e["current_etag"].is_string(), "{name}: {e}"),
                            "422" => assert!(e["errors"][0]["field"].is_string(), "{name}: {e}"),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    assert!(problems > 400, "{problems} problem examples");
    // What the service sends is what the document shows.
    let shown = |path: &str, method: &str, code: &str, name: &str| {
        json["paths"][path][method]["responses"][code]["content"]["application/problem+json"]
            ["examples"][name]["value"]
            .clone()
    };
    let missing = app
        .request(Method::GET, "/v1/parties/nope", None, None, None)
        .await;
    assert_eq!(
        missing.body,
        shown("/v1/parties/{id}", "get", "401", "missing")
    );
    let unknown = app.get("/v1/parties/nope", &app.auditor()).await;
    assert_eq!(
        unknown.body,
        shown("/v1/parties/{id}", "get", "404", "not_found")
    );
    let forged = app.get("/v1/parties", "not.a.token").await;
    assert_eq!(forged.body, shown("/v1/parties", "get", "401", "invalid"));
    let extra = app
        .get("/v1/parties/nope?actor=alice", &app.auditor())
        .await;
    assert_eq!(
        extra.body,
        shown("/v1/parties/{id}", "get", "400", "unknown_query_parameter")
    );
}

/// Issue "Answers people can act on", bullet 7: what the service answers carries its formats —
/// instants `date-time`, dates `date`, register ids `uuid`, countries their pattern — while a
/// request schema keeps exactly the rules its validation enforces (schemathesis checks both
/// sides against the running service in CI).
#[actix_web::test]
async fn answered_fields_carry_their_formats_and_patterns() {
    let json = serde_json::to_value(vendor_registry::api::openapi()).unwrap();
    let field = |schema: &str, name: &str| {
        json["components"]["schemas"][schema]["properties"][name].clone()
    };
    for (schema, name, format) in [
        ("Party", "created_at", "date-time"),
        ("Party", "next_review_due", "date"),
        ("Party", "id", "uuid"),
        ("Grant", "valid_from", "date-time"),
        ("Grant", "party_id", "uuid"),
        ("Decision", "decided_at", "date-time"),
        ("Evaluation", "as_of", "date-time"),
        ("Checkpoint", "signed_at", "date-time"),
        ("Agreement", "signed_on", "date"),
    ] {
        assert_eq!(field(schema, name)["format"], format, "{schema}.{name}");
    }
    assert_eq!(field("Party", "country")["pattern"], "^[A-Z]{2}$");
    assert_eq!(
        field("Party", "data_locations")["items"]["pattern"],
        "^[A-Z]{2}$"
    );
    assert_eq!(
        field("Decision", "destination_country")["pattern"],
        "^[A-Z]{2}$"
    );
    // Every `…_at` field is an instant, unless its schema is a request body's.
    let bodies = json["paths"].to_string();
    let schemas = json["components"]["schemas"].as_object().unwrap();
    let mut instants = 0;
    for (name, schema) in schemas {
        for (prop, p) in schema["properties"].as_object().into_iter().flatten() {
            let string = p["type"] == "string"
                || p["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&"string".into()));
            if !(prop.ends_with("_at") && string) {
                continue;
            }
            if p["format"] == "date-time" {
                instants += 1;
            } else {
                let body = format!(
                    r##""requestBody":{{"content":{{"application/json":{{"schema":{{"$ref":"#/components/schemas/{name}""##
                );
                assert!(
                    bodies.contains(&body),
                    "{name}.{prop} is answered without its format"
                );
            }
        }
    }
    assert!(instants >= 35, "{instants} instants marked");
    // A request schema is left as its validation is.
    assert!(field("NewParty", "country").get("pattern").is_none());
}

/// Issue "Answers people can act on", bullet 7: every field of every schema says what it holds
/// (a field that is a reference to another schema is described there).
#[actix_web::test]
async fn every_field_of_every_schema_is_described() {
    let json = serde_json::to_value(vendor_registry::api::openapi()).unwrap();
    let mut missing = Vec::new();
    for (name, schema) in json["components"]["schemas"].as_object().unwrap() {
        for (field, p) in schema["properties"].as_object().into_iter().flatten() {
            let reference =
                p.get("$ref").is_some() || p.get("allOf").is_some() || p.get("oneOf").is_some();
            if !reference && p["description"].as_str().is_none_or(|d| d.is_empty()) {
                missing.push(format!("{name}.{field}"));
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:?}");
}
