//! Who may do what: every operation of the served spec × every role, an unknown role and no
//! token, against a table written from API.md. A new operation without a row fails here.

use std::collections::BTreeMap;

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

const ALL: &[&str] = &["admin", "procurement", "service", "auditor", "legal"];
const REGISTER_READ: &[&str] = &["admin", "procurement", "auditor", "legal"];
const TRANSFER_READ: &[&str] = &["admin", "procurement", "auditor"];
const REGISTER_WRITE: &[&str] = &["admin", "procurement"];
const AUDIT: &[&str] = &["admin", "auditor"];
// #15: a service reads its own service and its own grants (and only its own: tests/api/answers.rs).
const SCOPE_READ: &[&str] = &["admin", "procurement", "auditor", "legal", "service"];
const DECISION_READ: &[&str] = &["admin", "auditor", "service", "legal"];
// DISCLOSURES.md "The legal role": counsel and admins write legal requests and incidents;
// auditors read all of it; procurement reads incidents but not their exposure.
const DISCLOSURE_WRITE: &[&str] = &["admin", "legal"];
const DISCLOSURE_READ: &[&str] = &["admin", "legal", "auditor"];
const INCIDENT_READ: &[&str] = &["admin", "legal", "auditor", "procurement"];
// README "Webhooks": admin, procurement and services register their own.
const WEBHOOK_OWNER: &[&str] = &["admin", "procurement", "service"];
const PUBLIC: &[&str] = &[];

/// API.md's table: (method, path) → roles; an empty list is public.
fn expected() -> BTreeMap<(&'static str, &'static str), &'static [&'static str]> {
    BTreeMap::from([
        (("get", "/healthz"), PUBLIC),
        (("get", "/readyz"), PUBLIC),
        (("get", "/metrics"), PUBLIC),
        (("get", "/v1/audit/public-key"), PUBLIC),
        (("get", "/v1/taxonomy/categories"), ALL),
        (("get", "/v1/taxonomy/purposes"), ALL),
        (("post", "/v1/taxonomy/categories"), &["admin"][..]),
        (("post", "/v1/taxonomy/purposes"), &["admin"][..]),
        (("patch", "/v1/taxonomy/categories/{key}"), &["admin"][..]),
        (("get", "/v1/taxonomy/categories/{key}"), ALL),
        (("get", "/v1/taxonomy/purposes/{key}"), ALL),
        (("patch", "/v1/taxonomy/purposes/{key}"), &["admin"][..]),
        (("get", "/v1/services"), REGISTER_READ),
        (("get", "/v1/services/{key}"), SCOPE_READ),
        (("get", "/v1/grants"), SCOPE_READ),
        (("get", "/v1/reminders"), REGISTER_READ),
        (("post", "/v1/services"), &["admin"][..]),
        (("patch", "/v1/services/{key}"), &["admin"][..]),
        (("get", "/v1/parties"), REGISTER_READ),
        (("post", "/v1/parties"), REGISTER_WRITE),
        (("get", "/v1/parties/{id}"), REGISTER_READ),
        (("patch", "/v1/parties/{id}"), REGISTER_WRITE),
        (("post", "/v1/parties/{id}/status"), REGISTER_WRITE),
        (("put", "/v1/parties/{id}/sub-processors"), REGISTER_WRITE),
        (("get", "/v1/services/{key}/sub-processors"), SCOPE_READ),
        (("get", "/v1/parties/{id}/grants"), REGISTER_READ),
        (("post", "/v1/parties/{id}/grants"), REGISTER_WRITE),
        (("get", "/v1/grants/{id}"), REGISTER_READ),
        (("post", "/v1/grants/{id}/revoke"), REGISTER_WRITE),
        (("post", "/v1/grants/{id}/approve"), REGISTER_WRITE),
        (("post", "/v1/grants/{id}/amend"), REGISTER_WRITE),
        (("post", "/v1/imports/register"), REGISTER_WRITE),
        (
            ("post", "/v1/simulations"),
            &["admin", "procurement", "auditor"][..],
        ),
        (("post", "/v1/sharing-requests"), &["service"][..]),
        (
            ("post", "/v1/sharing-requests/evaluate"),
            &["admin", "procurement", "auditor", "service"][..],
        ),
        (("get", "/v1/sharing-requests"), DECISION_READ),
        (("get", "/v1/sharing-requests/{id}"), DECISION_READ),
        (("get", "/v1/audit/events"), AUDIT),
        (("get", "/v1/audit/verify"), AUDIT),
        (("get", "/v1/audit/checkpoint"), AUDIT),
        (("get", "/v1/audit/checkpoints"), AUDIT),
        (("get", "/v1/audit/proof/{seq}"), DECISION_READ),
        (("get", "/v1/audit/consistency"), AUDIT),
        (("get", "/v1/audit/export"), AUDIT),
        (("post", "/v1/audit/cosignatures"), &["auditor"][..]),
        (("get", "/v1/audit/tile/{path}"), AUDIT),
        (("post", "/v1/imports/gvl"), REGISTER_WRITE),
        (("get", "/v1/exports/decisions.csv"), AUDIT),
        (("get", "/v1/exports/register.csv"), AUDIT),
        (("get", "/v1/exports/register.json"), AUDIT),
        (("patch", "/v1/grants/{id}"), REGISTER_WRITE),
        (("get", "/v1/entities"), REGISTER_READ),
        (("post", "/v1/entities"), &["admin"][..]),
        (("get", "/v1/entities/{key}"), REGISTER_READ),
        (("patch", "/v1/entities/{key}"), &["admin"][..]),
        (("get", "/v1/parties/{id}/agreements"), REGISTER_READ),
        (("post", "/v1/parties/{id}/agreements"), REGISTER_WRITE),
        (("get", "/v1/agreements/{id}"), REGISTER_READ),
        (("patch", "/v1/agreements/{id}"), REGISTER_WRITE),
        (("post", "/v1/agreements/{id}/withdraw"), REGISTER_WRITE),
        (("get", "/v1/transfer-rules"), ALL),
        (("get", "/v1/transfer-volumes"), TRANSFER_READ),
        (("post", "/v1/transfer-volumes/adjustments"), &["admin"][..]),
        (("get", "/v1/transfer-readiness"), TRANSFER_READ),
        (("post", "/v1/legal-requests"), DISCLOSURE_WRITE),
        (("get", "/v1/legal-requests"), DISCLOSURE_READ),
        (("get", "/v1/legal-requests/{id}"), DISCLOSURE_READ),
        (("post", "/v1/legal-requests/{id}/status"), DISCLOSURE_WRITE),
        (
            ("post", "/v1/legal-requests/{id}/confirm-override"),
            DISCLOSURE_WRITE,
        ),
        (("get", "/v1/reports/legal-requests"), DISCLOSURE_READ),
        (("post", "/v1/incidents"), DISCLOSURE_WRITE),
        (("get", "/v1/incidents"), INCIDENT_READ),
        (("get", "/v1/incidents/{id}"), INCIDENT_READ),
        (("patch", "/v1/incidents/{id}"), DISCLOSURE_WRITE),
        (("post", "/v1/incidents/{id}/status"), DISCLOSURE_WRITE),
        (
            ("post", "/v1/incidents/{id}/duties/{duty_id}"),
            DISCLOSURE_WRITE,
        ),
        (("get", "/v1/incidents/{id}/exposure"), DISCLOSURE_READ),
        (("get", "/v1/exports/legal-requests.csv"), DISCLOSURE_READ),
        (("get", "/v1/exports/incidents.csv"), DISCLOSURE_READ),
        (("post", "/v1/webhooks"), WEBHOOK_OWNER),
        (("get", "/v1/webhooks"), WEBHOOK_OWNER),
        (("get", "/v1/webhooks/{id}"), WEBHOOK_OWNER),
        (("delete", "/v1/webhooks/{id}"), WEBHOOK_OWNER),
        (("get", "/v1/webhooks/{id}/deliveries"), WEBHOOK_OWNER),
    ])
}

struct Objects {
    party: String,
    grant: String,
    decision: String,
    agreement: String,
    legal_request: String,
    incident: String,
    duty: String,
}

async fn objects(app: &TestApp) -> Objects {
    app.entity("acme-us", "US").await;
    app.service_for("newsletter", &["marketing.communications"], &["acme-us"])
        .await;
    let party = app.party(json!({})).await;
    let agreement = app
        .post(
            &format!("/v1/parties/{}/agreements", party["id"].as_str().unwrap()),
            &app.alice(),
            &json!({"exporter": "acme-us", "kind": "dpa", "reference": "DPA-1", "valid_from": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(agreement.status, 201, "{}", agreement.text);
    let grant = app.grant(&party, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US"]})).await;
    // Trusted, so the decision is approved and the incident below owes a duty.
    app.set_status(&party, "trusted").await;
    let d = app
        .share("newsletter", json!({"party_id": party["id"], "purpose": "marketing.communications", "categories": ["system"],
            "destination_country": "US", "subject_country": "US", "subject_count": 1}))
        .await;
    let legal = app
        .post("/v1/legal-requests", &app.token("legal", "counsel"), &json!({"authority_name": "Court",
            "authority_country": "US", "authority_kind": "court", "instrument": "subpoena", "reference": "C-1",
            "received_at": "2026-11-30T09:00:00Z", "data_stored_in": ["US"], "categories": ["user.name"]}))
        .await;
    assert_eq!(legal.status, 201, "{}", legal.text);
    let incident = app
        .post("/v1/incidents", &app.token("legal", "counsel"), &json!({"party_id": party["id"], "title": "Breach",
            "became_aware_at": "2026-11-30T09:00:00Z", "severity": "low", "categories": ["user.name"]}))
        .await;
    assert_eq!(incident.status, 201, "{}", incident.text);
    assert_eq!(d.body["outcome"], "approved", "{}", d.text);
    Objects {
        duty: incident.body["duties"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        legal_request: legal.body["id"].as_str().unwrap().to_owned(),
        incident: incident.body["id"].as_str().unwrap().to_owned(),
        party: party["id"].as_str().unwrap().to_owned(),
        grant: grant["id"].as_str().unwrap().to_owned(),
        decision: d.body["id"].as_str().unwrap().to_owned(),
        agreement: agreement.body["id"].as_str().unwrap().to_owned(),
    }
}

fn concrete(path: &str, o: &Objects) -> String {
    let id = if path.starts_with("/v1/grants") {
        &o.grant
    } else if path.starts_with("/v1/sharing-requests") {
        &o.decision
    } else if path.starts_with("/v1/agreements") {
        &o.agreement
    } else if path.starts_with("/v1/legal-requests") {
        &o.legal_request
    } else if path.starts_with("/v1/incidents") {
        &o.incident
    } else {
        &o.party
    };
    let key = if path.starts_with("/v1/entities") {
        "acme-us"
    } else if path.starts_with("/v1/taxonomy/categories") {
        "user.contact.email"
    } else if path.starts_with("/v1/taxonomy/purposes") {
        "marketing"
    } else {
        "newsletter"
    };
    path.replace("{key}", key)
        .replace("{id}", id)
        .replace("{seq}", "1")
        .replace("{path}", "0/000.p/1")
        .replace("{duty_id}", &o.duty)
        + match path {
            "/v1/audit/consistency" => "?from=1&to=2",
            "/v1/reports/legal-requests" => "?year=2026",
            _ => "",
        }
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

on_each_backend! {
    async fn every_operation_answers_every_role_as_the_table_says(app: TestApp) {
        let spec = serde_json::to_value(vendor_registry::api::openapi()).unwrap();
        let table = expected();
        let ops = operations(&spec);
        assert_eq!(
            ops.len(),
            table.len(),
            "every operation has a row and every row an operation"
        );
        let o = objects(&app).await;
        for (method, path, op) in &ops {
            let roles = table
                .get(&(method.as_str(), path.as_str()))
                .unwrap_or_else(|| panic!("no row for {method} {path}"));
            let documented: Vec<&str> = op["x-roles"]
                .as_array()
                .map(|r| r.iter().map(|v| v.as_str().unwrap()).collect())
                .unwrap_or_default();
            let mut sorted_doc = documented.clone();
            sorted_doc.sort();
            let mut sorted_exp = roles.to_vec();
            sorted_exp.sort();
            assert_eq!(sorted_doc, sorted_exp, "{method} {path}: x-roles");
            let uri = concrete(path, &o);
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (m == Method::POST || m == Method::PATCH || m == Method::PUT).then(|| json!({}));
            let anonymous = app
                .request(m.clone(), &uri, None, body.as_ref(), None)
                .await;
            if roles.is_empty() {
                assert!(
                    anonymous.status.as_u16() != 401 && anonymous.status.as_u16() != 403,
                    "{method} {path} is public"
                );
                continue;
            }
            assert_eq!(
                anonymous.status, 401,
                "[{}] {method} {path} without a token",
                app.backend
            );
            let unknown = app
                .request(
                    m.clone(),
                    &uri,
                    Some(&app.token("janitor", "joe")),
                    body.as_ref(),
                    None,
                )
                .await;
            assert_eq!(unknown.status, 403, "{method} {path} with an unknown role");
            for role in ALL {
                let sub = if *role == "service" {
                    "newsletter"
                } else {
                    "matrix"
                };
                let r = app
                    .request(
                        m.clone(),
                        &uri,
                        Some(&app.token(role, sub)),
                        body.as_ref(),
                        None,
                    )
                    .await;
                let code = r.status.as_u16();
                if roles.contains(role) {
                    assert!(
                        code != 401 && code != 403,
                        "[{}] {method} {path} as {role}: {code} {}",
                        app.backend,
                        r.text
                    );
                    assert!(code < 500, "{method} {path} as {role}: {code} {}", r.text);
                } else {
                    assert_eq!(code, 403, "[{}] {method} {path} as {role}", app.backend);
                }
            }
        }
    }
}

const SERVER_OWNED: &[&str] = &[
    "id",
    "status",
    "version",
    "region",
    "party_id",
    "created_by",
    "status_reason",
    "revoked_reason",
    "created_at",
    "updated_at",
    "revoked_at",
    "decided_at",
    "effective",
    "outcome",
    "ledger_seq",
];

#[actix_web::test]
async fn every_server_owned_field_is_refused_in_every_writable_body() {
    let spec = serde_json::to_value(vendor_registry::api::openapi()).unwrap();
    let app = TestApp::sqlite().await;
    let o = objects(&app).await;
    let mut checked = 0;
    for (method, path, op) in operations(&spec) {
        let Some(reference) =
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        else {
            continue;
        };
        let schema = &spec["components"]["schemas"][reference.rsplit('/').next().unwrap()];
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let role = match path.as_str() {
            "/v1/sharing-requests" => "service",
            "/v1/audit/cosignatures" => "auditor",
            p if p.starts_with("/v1/legal-requests") || p.starts_with("/v1/incidents") => "legal",
            p if p.starts_with("/v1/taxonomy")
                || p.starts_with("/v1/services")
                || p.starts_with("/v1/entities")
                || p.starts_with("/v1/transfer-volumes") =>
            {
                "admin"
            }
            _ => "procurement",
        };
        let token = app.token(
            role,
            if role == "service" {
                "newsletter"
            } else {
                "mass"
            },
        );
        let uri = concrete(&path, &o);
        for field in SERVER_OWNED
            .iter()
            .filter(|f| !properties.contains_key(**f))
        {
            let etag = if op["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "If-Match"))
            {
                let read = uri
                    .trim_end_matches("/status")
                    .trim_end_matches("/revoke")
                    .trim_end_matches("/amend")
                    .trim_end_matches("/withdraw")
                    .trim_end_matches("/confirm-override")
                    .trim_end_matches("/sub-processors")
                    .to_owned();
                Some(app.get(&read, &app.admin()).await.etag())
            } else {
                None
            };
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .request(
                    m,
                    &uri,
                    Some(&token),
                    Some(&json!({*field: "x"})),
                    etag.as_deref(),
                )
                .await;
            assert_eq!(r.status, 422, "{method} {path} with {field}: {}", r.text);
            let mentioned = r.body["errors"].as_array().unwrap().iter().any(|e| {
                e["field"] == *field && e["message"].as_str().unwrap().contains("set by the server")
            });
            assert!(
                mentioned,
                "{method} {path} names {field} as server-owned: {}",
                r.text
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} field × body cases");
}
