use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

fn rows(text: &str) -> Vec<&str> {
    text.split("\r\n").filter(|l| !l.is_empty()).collect()
}

on_each_backend! {
    async fn decisions_export_as_csv_with_the_list_filters(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.set_status(&app.party(json!({})).await, "trusted").await;
        let ask = |cats: Value| {
            json!({"party_id": party["id"], "purpose": "marketing.communications",
            "categories": cats, "destination_country": "US", "subject_country": "US", "subject_count": 1})
        };
        let approved = app.share("newsletter", ask(json!(["system"]))).await;
        let denied = app
            .share("newsletter", ask(json!(["user.name", "system"])))
            .await;
        let r = app.get("/v1/exports/decisions.csv", &app.auditor()).await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("text/csv; charset=utf-8")
        );
        let lines = rows(&r.text);
        assert_eq!(
            lines[0],
            "id,decided_at,service,party_id,purpose,categories,destination_country,subject_region,outcome,reasons,grants,ledger_seq,subject_country,data_origin_country,exporter,subject_count,rules_version"
        );
        assert!(lines[1].ends_with(",US,US,,1,2026-01"), "{}", lines[1]);
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with(approved.body["id"].as_str().unwrap()));
        assert!(
            lines[2].contains(",denied,category_not_granted:user.name,,"),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains("user.name;system"));
        let only = app
            .get("/v1/exports/decisions.csv?outcome=denied", &app.auditor())
            .await;
        let only = rows(&only.text);
        assert_eq!(only.len(), 2);
        assert!(only[1].starts_with(denied.body["id"].as_str().unwrap()));
        assert_eq!(
            app.get("/v1/exports/decisions.csv?from=later", &app.auditor())
                .await
                .status,
            422
        );
        assert_eq!(
            app.get("/v1/exports/decisions.csv", &app.alice())
                .await
                .status,
            403
        );
    }
}

on_each_backend! {
    async fn the_register_exports_as_csv_and_json_with_grants(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let a = app.party(json!({"legal_name": "Acme, \"Mail\" Ltd", "contract_reference": "=HYPERLINK(\"x\")"})).await;
        let b = app.party(json!({"legal_name": "Beta"})).await;
        app.grant(&a, json!({"service": "newsletter", "categories": ["user.name"], "allowed_regions": ["US", "PRC"]})).await;
        app.grant(&a, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"],
            "valid_from": "2001-01-01T00:00:00Z", "valid_until": "2002-01-01T00:00:00Z"})).await;
        let csv = app.get("/v1/exports/register.csv", &app.auditor()).await;
        assert_eq!(csv.status, 200);
        let lines = rows(&csv.text);
        assert_eq!(lines.len(), 1 + 2 + 1, "[{}] {}", app.backend, csv.text);
        assert!(
            lines[1].contains("\"Acme, \"\"Mail\"\" Ltd\""),
            "quoted: {}",
            lines[1]
        );
        assert!(
            lines[1].contains(",\"'=HYPERLINK(\"\"x\"\")\","),
            "a formula is neutralised: {}",
            lines[1]
        );
        assert!(lines[1].contains("US;PRC") && lines[1].contains(",active,active,"));
        assert!(
            lines[2].contains(",active,expired,"),
            "expired shows as such: {}",
            lines[2]
        );
        assert!(lines[3].starts_with(b["id"].as_str().unwrap()));
        // Party version 1, eleven empty grant columns, then the transfer-law columns
        // (docs/TRANSFERS.md appended party facts and grant evidence): empty grant evidence;
        // then who changed the status (never, here) and the three approval columns (#15);
        // then (#17 bullet 1, the import's agreements and ownership) `ownership` and the twelve
        // `agreement_*` columns, empty on a party's own row.
        assert!(
            lines[3].ends_with(&format!(",1,,,,,,,,,,,,CN,false,false{}", ",".repeat(10 + 13))),
            "no grant columns: {}",
            lines[3]
        );

        let json = app.get("/v1/exports/register.json", &app.auditor()).await;
        assert_eq!(json.status, 200);
        let parties = json
            .body
            .as_array()
            .unwrap_or_else(|| panic!("an array: {}", json.text));
        assert_eq!(parties.len(), 2);
        assert_eq!(parties[0]["grants"].as_array().unwrap().len(), 2);
        assert_eq!(parties[0]["grants"][1]["effective"], "expired");
        assert_eq!(parties[1]["grants"], json!([]));
        assert_eq!(parties[1]["agreements"], json!([]));
        assert_eq!(parties[1]["principal_place_of_business"], "CN");
        assert_eq!(
            app.get("/v1/exports/register.json", &app.alice())
                .await
                .status,
            403
        );
    }
}

#[actix_web::test]
async fn an_empty_register_exports_as_an_empty_array_and_a_header() {
    let app = TestApp::sqlite().await;
    assert_eq!(
        app.get("/v1/exports/register.json", &app.auditor())
            .await
            .body,
        json!([])
    );
    assert_eq!(
        rows(
            &app.get("/v1/exports/register.csv", &app.auditor())
                .await
                .text
        )
        .len(),
        1
    );
}
