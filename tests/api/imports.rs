use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

fn gvl(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn head(app: &TestApp) -> i64 {
    app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"]
        .as_i64()
        .unwrap()
}

async fn by_ref(app: &TestApp, r: &str) -> Value {
    let list = app
        .get(&format!("/v1/parties?external_ref={r}"), &app.auditor())
        .await;
    list.body["items"][0].clone()
}

on_each_backend! {
    async fn the_real_v3_list_imports_with_its_defects_reported_and_reimports_as_a_no_op(app: TestApp) {
        let doc = gvl("vendor-list-v7.json");
        let r = app.post("/v1/imports/gvl", &app.alice(), &doc).await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
        assert_eq!(r.body["vendors"], 376);
        assert_eq!(r.body["created"], 376);
        assert_eq!(
            (r.body["updated"].clone(), r.body["unchanged"].clone()),
            (json!(0), json!(0))
        );
        let warnings = r.body["warnings"].as_array().unwrap();
        let null_cookie = warnings
            .iter()
            .filter(|w| w["field"] == "cookieMaxAgeSeconds")
            .count();
        let no_decl: Vec<i64> = warnings
            .iter()
            .filter(|w| w["field"] == "dataDeclaration")
            .map(|w| w["vendor_id"].as_i64().unwrap())
            .collect();
        let expected_null = doc["vendors"]
            .as_object()
            .unwrap()
            .values()
            .filter(|v| v["cookieMaxAgeSeconds"].is_null())
            .count();
        assert_eq!(null_cookie, expected_null);
        let expected_no_decl: Vec<i64> = doc["vendors"]
            .as_object()
            .unwrap()
            .values()
            .filter(|v| v.get("dataDeclaration").is_none())
            .map(|v| v["id"].as_i64().unwrap())
            .collect();
        let mut sorted = expected_no_decl.clone();
        sorted.sort();
        assert_eq!(no_decl, sorted);

        let p = by_ref(&app, "gvl:1").await;
        assert_eq!(p["legal_name"], doc["vendors"]["1"]["name"]);
        assert_eq!(p["status"], "pending_review");
        assert_eq!(p["privacy_policy_url"], "https://vdx.tv/privacy/");
        assert!(p["country"].is_null() && p["region"].is_null());
        assert_eq!(p["created_by"], "alice");
        let cats: Vec<&str> = p["declared_categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(cats.contains(&"user.device.ip_address"), "{cats:?}");
        assert!(
            p["declared_purposes"]
                .as_array()
                .unwrap()
                .contains(&json!("functional.storage"))
        );

        let before = head(&app).await;
        let again = app.post("/v1/imports/gvl", &app.bob(), &doc).await;
        assert_eq!(
            again.body["unchanged"], 376,
            "[{}] {}",
            app.backend, again.text
        );
        assert_eq!(
            (again.body["created"].clone(), again.body["updated"].clone()),
            (json!(0), json!(0))
        );
        assert_eq!(head(&app).await, before, "a re-import writes nothing");
    }
}

on_each_backend! {
    async fn a_later_list_updates_only_what_changed_and_withdrawals_suspend(app: TestApp) {
        let mut doc = gvl("vendor-list-v7.json");
        app.post("/v1/imports/gvl", &app.alice(), &doc).await;
        let p = by_ref(&app, "gvl:1").await;
        let id = p["id"].as_str().unwrap().to_owned();
        let r = app.get(&format!("/v1/parties/{id}"), &app.bob()).await;
        let patch = json!({"country": "US", "data_locations": ["US"], "contact_email": "privacy@vdx.example"});
        let r = app
            .patch_if(&format!("/v1/parties/{id}"), &app.bob(), &patch, &r.etag())
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app
            .post_if(
                &format!("/v1/parties/{id}/status"),
                &app.bob(),
                &json!({"status": "trusted"}),
                &r.etag(),
            )
            .await;
        assert_eq!(
            r.status, 200,
            "alice imported it, bob may trust it: {}",
            r.text
        );

        doc["vendorListVersion"] = json!(8);
        doc["vendors"]["2"]["name"] = json!("Renamed Vendor Ltd");
        doc["vendors"]["1"]["deletedDate"] = json!("2023-07-01T00:00:00Z");
        // A dry run first (#17): the same report, each change field by field, nothing written.
        let before = head(&app).await;
        let dry = app.post("/v1/imports/gvl?dry_run=true", &app.alice(), &doc).await;
        assert_eq!(dry.status, 200, "{}", dry.text);
        assert_eq!(dry.body["dry_run"], true);
        assert_eq!((dry.body["updated"].clone(), dry.body["suspended"].clone()), (json!(2), json!(1)));
        let renamed = dry.body["changes"].as_array().unwrap().iter()
            .find(|c| c["vendor_id"] == 2).unwrap_or_else(|| panic!("{}", dry.text));
        assert_eq!(renamed["outcome"], "updated");
        let name = renamed["fields"].as_array().unwrap().iter().find(|f| f["field"] == "legal_name").unwrap();
        assert_eq!(name["after"], "Renamed Vendor Ltd");
        assert_ne!(name["before"], name["after"]);
        let withdrawn = dry.body["changes"].as_array().unwrap().iter().find(|c| c["vendor_id"] == 1).unwrap();
        let fields: Vec<&str> = withdrawn["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["deleted_upstream", "status"], "{withdrawn}");
        assert_eq!(head(&app).await, before, "a dry run writes nothing");
        assert_eq!(app.get(&format!("/v1/parties/{id}"), &app.bob()).await.body["status"], "trusted");
        let r = app.post("/v1/imports/gvl", &app.alice(), &doc).await;
        assert_eq!(r.body["dry_run"], false);
        assert_eq!(r.body["updated"], 2, "[{}] {}", app.backend, r.text);
        assert_eq!(r.body["unchanged"], 374);
        assert_eq!(r.body["suspended"], 1);
        assert_eq!(
            by_ref(&app, "gvl:2").await["legal_name"],
            "Renamed Vendor Ltd"
        );
        let gone = app.get(&format!("/v1/parties/{id}"), &app.bob()).await;
        assert_eq!(gone.body["status"], "suspended");
        assert_eq!(gone.body["country"], "US", "what procurement set is kept");
        let r = app
            .post_if(
                &format!("/v1/parties/{id}/status"),
                &app.bob(),
                &json!({"status": "trusted"}),
                &gone.etag(),
            )
            .await;
        assert_eq!(r.status, 409, "a withdrawn vendor can never be trusted");
    }
}

#[actix_web::test]
async fn an_incomplete_imported_party_cannot_be_trusted() {
    let app = TestApp::sqlite().await;
    app.post("/v1/imports/gvl", &app.alice(), &gvl("vendor-list-v7.json"))
        .await;
    let p = by_ref(&app, "gvl:2").await;
    let r = app
        .post_if(
            &format!("/v1/parties/{}/status", p["id"].as_str().unwrap()),
            &app.bob(),
            &json!({"status": "trusted"}),
            "\"1\"",
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.error_fields(),
        vec!["country", "data_locations", "contact_email"]
    );
}

#[actix_web::test]
async fn the_real_v2_list_imports_with_its_withdrawn_vendors() {
    let app = TestApp::sqlite().await;
    let r = app
        .post(
            "/v1/imports/gvl",
            &app.alice(),
            &gvl("vendor-list-v2-51.json"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["gvl_specification_version"], 2);
    assert_eq!(r.body["created"], 496);
    let withdrawn: Vec<i64> = r.body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["field"] == "deletedDate")
        .map(|w| w["vendor_id"].as_i64().unwrap())
        .collect();
    assert_eq!(withdrawn, vec![9, 653]);
    let p = by_ref(&app, "gvl:8").await;
    assert_eq!(
        p["privacy_policy_url"],
        "https://www.emerse.com/privacy-policy/"
    );
}

#[actix_web::test]
async fn imports_refuse_what_is_not_a_vendor_list_and_those_who_may_not() {
    let app = TestApp::sqlite().await;
    let r = app
        .post("/v1/imports/gvl", &app.alice(), &json!({"hello": "world"}))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.is_problem());
    assert_eq!(
        app.post("/v1/imports/gvl", &app.auditor(), &json!({}))
            .await
            .status,
        403
    );
    let big = json!({"vendors": {}, "pad": "x".repeat(17 * 1024 * 1024)});
    assert_eq!(
        app.post("/v1/imports/gvl", &app.alice(), &big).await.status,
        413
    );
    let medium = json!({"vendorListVersion": 1, "vendors": {}, "pad": "x".repeat(100 * 1024)});
    assert_eq!(
        app.post("/v1/imports/gvl", &app.alice(), &medium)
            .await
            .status,
        200,
        "imports take more than 64 KiB"
    );
}

#[actix_web::test]
async fn the_command_line_imports_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let file = format!(
        "{}/tests/data/vendor-list-v7.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args(["import", "gvl", &file, "--data-dir"])
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["created"], 376);
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("376/376"), "{progress}");
}

// Procurement at scale (#17, "GVL import guarded"): the 2020 list once overwrote 223 parties
// imported from a 2023 list. An older list is refused unless forced, and every import is recorded.
on_each_backend! {
    async fn an_older_list_is_refused_unless_forced_and_each_import_is_recorded(app: TestApp) {
        let doc = gvl("vendor-list-v7.json");
        assert_eq!(app.post("/v1/imports/gvl", &app.alice(), &doc).await.status, 200);
        let before = head(&app).await;
        let entry = app.get(&format!("/v1/audit/events?after_seq={}", before - 1), &app.auditor()).await;
        let last = &entry.body["items"][0];
        assert_eq!(last["action"], "vendor_list.imported", "{}", entry.text);
        assert_eq!(last["subject"], "vendor_list:gvl");
        assert_eq!(last["change"]["vendor_list_version"], 7);
        assert_eq!(last["change"]["forced"], false);

        // A lower vendorListVersion, and (same version) a lastUpdated one second earlier.
        let mut lower = doc.clone();
        lower["vendorListVersion"] = json!(6);
        let mut earlier = doc.clone();
        earlier["lastUpdated"] = json!("2023-06-29T16:07:25Z");
        for old in [&lower, &earlier] {
            let r = app.post("/v1/imports/gvl", &app.alice(), old).await;
            assert_eq!(r.status, 409, "[{}] {}", app.backend, r.text);
            assert!(r.is_problem());
            assert!(r.body["detail"].as_str().unwrap().contains("force=true"), "{}", r.text);
        }
        assert_eq!(head(&app).await, before, "a refused import writes nothing");
        // The same list again, and a later one, pass without force.
        assert_eq!(app.post("/v1/imports/gvl", &app.alice(), &doc).await.status, 200);
        let mut later = doc.clone();
        later["lastUpdated"] = json!("2023-06-29T16:07:27Z");
        assert_eq!(app.post("/v1/imports/gvl", &app.alice(), &later).await.status, 200);

        let r = app.post("/v1/imports/gvl?force=true", &app.alice(), &lower).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let h = head(&app).await;
        let entry = app.get(&format!("/v1/audit/events?after_seq={}", h - 1), &app.auditor()).await;
        assert_eq!(entry.body["items"][0]["change"]["forced"], true, "{}", entry.text);
        assert_eq!(entry.body["items"][0]["change"]["previous_version"], 7);
    }
}
