//! What procurement records for transfer law and what the API says of it: entities, party
//! facts, agreements, grant evidence, the rule set, the request's new fields and the report-only
//! mode (docs/TRANSFERS.md).

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

async fn cn_world(app: &TestApp) -> (Value, Value) {
    app.entity("acme-cn", "CN").await;
    app.service_for("svc", &["marketing"], &["acme-cn"]).await;
    let party = app
        .party(json!({"country": "SG", "data_locations": ["SG"]}))
        .await;
    let party = app.set_status(&party, "trusted").await;
    let ask = json!({"party_id": party["id"], "purpose": "marketing.communications.email",
        "categories": ["user.contact.email"], "destination_country": "SG", "subject_country": "CN", "subject_count": 200_000});
    (party, ask)
}

on_each_backend! {
    async fn entities_are_registered_read_as_of_and_changed_with_if_match(app: TestApp) {
        let e = app.entity("acme-cn", "CN").await;
        assert_eq!(e["ciio"], false);
        let before = chrono::Utc::now().to_rfc3339();
        let r = app.post("/v1/entities", &app.admin(), &json!({"key": "acme-us", "legal_name": "A", "country": "US", "ciio": true})).await;
        assert_eq!(r.status, 422, "ciio only in CN: {}", r.text);
        assert_eq!(r.error_fields(), vec!["ciio"]);
        let r = app.post("/v1/entities", &app.alice(), &json!({"key": "x", "legal_name": "A", "country": "US"})).await;
        assert_eq!(r.status, 403, "procurement reads entities, admin writes them");
        assert_eq!(app.post("/v1/entities", &app.admin(), &json!({"key": "acme-cn", "legal_name": "A", "country": "CN"})).await.status, 409);
        let got = app.get("/v1/entities/acme-cn", &app.alice()).await;
        assert_eq!(got.etag(), "\"1\"");
        let r = app.patch_if("/v1/entities/acme-cn", &app.admin(), &json!({"ciio": true}), "\"1\"").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["ciio"], true);
        assert_eq!(app.patch_if("/v1/entities/acme-cn", &app.admin(), &json!({"ciio": false}), "\"1\"").await.status, 412);
        let then = app.get(&format!("/v1/entities/acme-cn?as_of={}", urlencoding(&before)), &app.auditor()).await;
        assert_eq!(then.status, 200, "{}", then.text);
        assert_eq!(then.body["ciio"], false);
        assert!(then.body["as_of_ledger_seq"].is_i64());
        let list = app.get("/v1/entities", &app.auditor()).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
        // A service may list only registered entities.
        let r = app.post("/v1/services", &app.admin(), &json!({"key": "s", "name": "s", "purposes": ["marketing"], "entities": ["acme-cn", "ghost"]})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["entities[1]"]);
    }
}

fn urlencoding(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

on_each_backend! {
    async fn agreements_are_evidence_with_their_own_rules_and_history(app: TestApp) {
        let (party, _) = cn_world(&app).await;
        let pid = party["id"].as_str().unwrap();
        let path = format!("/v1/parties/{pid}/agreements");
        let base = json!({"exporter": "acme-cn", "kind": "pipl_standard_contract", "reference": "SC-1", "valid_from": "2026-01-01T00:00:00Z"});
        let mut bad = base.clone();
        bad["exporter"] = json!("nobody");
        assert_eq!(app.post(&path, &app.alice(), &bad).await.error_fields(), vec!["exporter"]);
        let mut bad = base.clone();
        bad["kind"] = json!("eu_bcr");
        let r = app.post(&path, &app.alice(), &bad).await;
        assert_eq!(r.status, 422, "BCRs bind affiliates only: {}", r.text);
        assert_eq!(r.error_fields(), vec!["kind"]);
        let mut bad = base.clone();
        bad["document_sha256"] = json!("ABC");
        bad["valid_until"] = json!("2025-01-01T00:00:00Z");
        let r = app.post(&path, &app.alice(), &bad).await;
        assert_eq!(r.status, 422);
        assert!(r.error_fields().contains(&"document_sha256".to_owned()), "{}", r.text);
        assert_eq!(app.post(&path, &app.token("auditor", "eve"), &base).await.status, 403);
        let a = app.post(&path, &app.alice(), &base).await;
        assert_eq!(a.status, 201, "{}", a.text);
        assert_eq!(a.body["status"], "active");
        assert_eq!(a.body["created_by"], "alice");
        let aid = a.body["id"].as_str().unwrap().to_owned();
        let created = chrono::Utc::now().to_rfc3339();
        // A grant may list only its own party's agreements.
        let other = app.party(json!({})).await;
        let r = app.post(&format!("/v1/parties/{}/grants", other["id"].as_str().unwrap()), &app.alice(),
            &json!({"service": "svc", "categories": ["user.name"], "allowed_regions": ["OTHER"], "agreements": [aid]})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["agreements[0]"]);
        let r = app.patch_if(&format!("/v1/agreements/{aid}"), &app.alice(), &json!({"filing_reference": "F-1"}), "\"1\"").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.etag(), "\"2\"");
        let w = app.post_if(&format!("/v1/agreements/{aid}/withdraw"), &app.bob(), &json!({"reason": "superseded"}), "\"2\"").await;
        assert_eq!(w.status, 200, "{}", w.text);
        assert_eq!(w.body["status"], "withdrawn");
        assert_eq!(app.post_if(&format!("/v1/agreements/{aid}/withdraw"), &app.bob(), &json!({"reason": "again"}), "\"3\"").await.status, 409);
        assert_eq!(app.patch_if(&format!("/v1/agreements/{aid}"), &app.alice(), &json!({"reference": "x"}), "\"3\"").await.status, 409);
        let then = app.get(&format!("/v1/parties/{pid}/agreements?as_of={}", urlencoding(&created)), &app.auditor()).await;
        assert_eq!(then.body["items"][0]["status"], "active", "{}", then.text);
        assert!(then.body["items"][0]["filing_reference"].is_null());
        let now = app.get(&path, &app.auditor()).await;
        assert_eq!(now.body["items"][0]["status"], "withdrawn");
        let events = app.get(&format!("/v1/audit/events?subject=agreement:{aid}"), &app.auditor()).await;
        let actions: Vec<&str> = events.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["agreement.created", "agreement.updated", "agreement.withdrawn"], "{}", events.text);
    }
}

on_each_backend! {
    async fn a_withdrawn_agreement_backs_nothing_from_the_next_decision(app: TestApp) {
        let (party, ask) = cn_world(&app).await;
        let pid = party["id"].as_str().unwrap();
        let a = app.post(&format!("/v1/parties/{pid}/agreements"), &app.alice(), &json!({"exporter": "acme-cn",
            "kind": "pipl_standard_contract", "reference": "SC-1", "valid_from": "2026-01-01T00:00:00Z",
            "filing_reference": "F-1", "pipia_reference": "P-1"})).await;
        let aid = a.body["id"].as_str().unwrap().to_owned();
        app.grant(&party, json!({"service": "svc", "categories": ["user.contact"], "allowed_regions": ["OTHER"],
            "agreements": [aid], "pipia_reference": "P-1", "separate_consent": true})).await;
        let r = app.share("svc", ask.clone()).await;
        assert_eq!(r.body["outcome"], "approved", "[{}] {}", app.backend, r.text);
        assert_eq!(r.body["exporter"], "acme-cn");
        assert_eq!(r.body["regimes"][0]["agreements"][0]["agreement_id"], aid.as_str());
        app.post_if(&format!("/v1/agreements/{aid}/withdraw"), &app.bob(), &json!({"reason": "ended"}), "\"1\"").await;
        let r = app.share("svc", ask).await;
        assert_eq!(r.body["outcome"], "denied");
        assert_eq!(r.body["reasons"][0]["code"], "transfer_mechanism_withdrawn");
    }
}

on_each_backend! {
    async fn the_rule_set_is_served_recorded_once_and_named_in_every_decision(app: TestApp) {
        let rules = app.get("/v1/transfer-rules", &app.token("service", "svc")).await;
        assert_eq!(rules.status, 200);
        assert_eq!(rules.body["version"], "2026-01");
        let sha = rules.body["sha256"].as_str().unwrap().to_owned();
        assert_eq!(rules.body["pipl"]["non_sensitive_assessment_from"], 1_000_000);
        assert_eq!(rules.body["reasons"]["us_dsp_prohibited"]["us_dsp"], "28 CFR 202.303");
        let entries = activated(&app).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["change"]["sha256"], sha.as_str());
        assert_eq!(entries[0]["subject"], "rules:2026-01");
        // A second node on the same ledger runs the same rules: nothing new is recorded.
        let _b = app.node().await;
        assert_eq!(activated(&app).await.len(), 1);
    }
}

async fn activated(app: &TestApp) -> Vec<Value> {
    let e = app
        .get("/v1/audit/events?action=rules.activated", &app.auditor())
        .await;
    e.body["items"].as_array().unwrap().clone()
}

on_each_backend! {
    async fn the_request_names_its_subjects_country_and_count(app: TestApp) {
        let (_, ask) = cn_world(&app).await;
        let mut no_count = ask.clone();
        no_count.as_object_mut().unwrap().remove("subject_count");
        let r = app.share("svc", no_count).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_fields(), vec!["subject_count"]);
        for bad in [json!(0), json!(1_000_000_001)] {
            let mut b = ask.clone();
            b["subject_count"] = bad;
            assert_eq!(app.share("svc", b).await.error_fields(), vec!["subject_count"]);
        }
        let mut old = ask.clone();
        old.as_object_mut().unwrap().remove("subject_country");
        old["subject_region"] = json!("PRC");
        let r = app.share("svc", old.clone()).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.header("deprecation").as_deref(), Some("@1796169600"));
        assert_eq!(r.body["subject_country"], "CN");
        assert_eq!(r.body["data_origin_country"], "CN");
        old["subject_region"] = json!("OTHER");
        let r = app.share("svc", old).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_fields(), vec!["subject_country"]);
        let r = app.share("svc", ask.clone()).await;
        assert!(r.header("deprecation").is_none());
        assert_eq!(r.body["subject_count"], 200_000);
        // Everything the decision was judged on is in its ledger entry.
        let seq = r.body["ledger_seq"].as_i64().unwrap();
        let entry = app.get(&format!("/v1/audit/events?after_seq={}&limit=1", seq - 1), &app.auditor()).await;
        let change = &entry.body["items"][0]["change"];
        assert_eq!(change["subject_count"], 200_000);
        assert_eq!(change["rules_version"], "2026-01");
        assert_eq!(change["regimes"], r.body["regimes"]);
        assert_eq!(change["exporter"], "acme-cn");
    }
}

on_each_backend! {
    async fn the_taxonomy_shows_the_transfer_marks(app: TestApp) {
        let cats = app.get("/v1/taxonomy/categories?limit=200", &app.auditor()).await;
        let mut all: Vec<Value> = cats.body["items"].as_array().unwrap().clone();
        let mut cursor = cats.body["next_cursor"].as_str().map(str::to_owned);
        while let Some(c) = cursor {
            let page = app.get(&format!("/v1/taxonomy/categories?limit=200&cursor={c}"), &app.auditor()).await;
            all.extend(page.body["items"].as_array().unwrap().iter().cloned());
            cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        }
        let find = |k: &str| all.iter().find(|c| c["key"] == k).unwrap_or_else(|| panic!("{k}")).clone();
        assert_eq!(find("user.financial.bank_account")["pipl_sensitive"], true);
        assert_eq!(find("user.health_and_medical.genetic")["us_dsp_classes"], json!(["genomic", "health"]));
        assert_eq!(find("user.contact.email")["us_dsp_classes"], json!(["listed_identifier"]));
        assert_eq!(find("user.contact.email")["pipl_sensitive"], false);
        assert_eq!(find("user.government_id")["pipl_sensitive"], true);
    }
}

on_each_backend! {
async fn report_mode_records_what_enforcement_would_deny_without_denying(enforcing: TestApp) {
    let app = TestApp::spawn_configured(tempfile::tempdir().unwrap(), enforcing.pg_base(), None, |c| {
        c.transfer_enforcement = vendor_registry::transfers::Enforcement::Report;
    })
    .await;
    let (party, ask) = cn_world(&app).await;
    // No grant: a scope reason still denies.
    let r = app.share("svc", ask.clone()).await;
    assert_eq!(r.body["outcome"], "denied");
    assert_eq!(r.body["reasons"][0]["code"], "category_not_granted");
    assert!(r.body.get("advisories").is_none());
    // A grant without the PIPL prerequisites or an agreement: approved, with the advisory.
    app.grant(
        &party,
        json!({"service": "svc", "categories": ["user.contact"], "allowed_regions": ["OTHER"]}),
    )
    .await;
    let r = app.share("svc", ask).await;
    assert_eq!(r.body["outcome"], "approved", "{}", r.text);
    assert_eq!(r.body["reasons"], json!([]));
    assert_eq!(r.body["advisories"][0]["code"], "pipl_prerequisite_missing");
    assert_eq!(r.body["advisories"][0]["regime"], "pipl");
    let v = app.get("/v1/transfer-volumes", &app.auditor()).await;
    assert_eq!(
        v.body["items"][0]["count"], 200_000,
        "an approval counts: {}",
        v.text
    );
    assert_eq!(v.body["items"][0]["tier"], "contract");
    let ready = app.get("/v1/transfer-readiness", &app.auditor()).await;
    assert_eq!(ready.body["enforcement"], "report");
    assert_eq!(
        ready.body["decisions"][0]["id"], r.body["id"],
        "{}",
        ready.text
    );
}
}

fn sql(app: &TestApp, statement: &str) -> usize {
    use diesel::RunQueryDsl;
    let mut conn = app.state.pool.get().unwrap();
    diesel::sql_query(statement).execute(&mut *conn).unwrap()
}

on_each_backend! {
    async fn an_adjustment_seeds_a_counter_and_verify_rebuilds_every_counter_from_the_ledger(app: TestApp) {
        use chrono::Datelike;
        let (party, ask) = cn_world(&app).await;
        app.grant(&party, json!({"service": "svc", "categories": ["user.contact"], "allowed_regions": ["OTHER"],
            "pipia_reference": "P-1", "separate_consent": true})).await;
        let year = (chrono::Utc::now() + chrono::Duration::hours(8)).year().to_string();
        let adjust = |delta: i64| json!({"key": "pipl:acme-cn:non_sensitive", "period": year, "delta": delta,
            "reason": "exports before the service counted them", "evidence_reference": "DPO-1"});
        assert_eq!(app.post("/v1/transfer-volumes/adjustments", &app.alice(), &adjust(1)).await.status, 403);
        let r = app.post("/v1/transfer-volumes/adjustments", &app.admin(), &adjust(-1)).await;
        assert_eq!(r.status, 422, "never below zero: {}", r.text);
        let mut bad = adjust(5);
        bad["key"] = json!("pipl:nobody:non_sensitive");
        bad["period"] = json!("2026-01-01");
        let r = app.post("/v1/transfer-volumes/adjustments", &app.admin(), &bad).await;
        assert_eq!(r.error_fields(), vec!["key", "period"], "{}", r.text);
        let r = app.post("/v1/transfer-volumes/adjustments", &app.admin(), &adjust(95_000)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["count"], 95_000);
        let mut small = ask.clone();
        small["subject_count"] = json!(4_999);
        assert_eq!(app.share("svc", small).await.body["outcome"], "approved");
        let mut one = ask.clone();
        one["subject_count"] = json!(1);
        let r = app.share("svc", one).await;
        assert_eq!(r.body["outcome"], "denied", "99,999 + 1 reaches the contract tier: {}", r.text);
        assert_eq!(r.body["reasons"][0]["code"], "transfer_mechanism_missing");
        let vols = app.get("/v1/transfer-volumes", &app.auditor()).await;
        assert_eq!(vols.body["items"][0]["count"], 99_999, "{}", vols.text);
        assert_eq!(vols.body["items"][0]["adjustments"][0]["delta"], 95_000);
        assert_eq!(vols.body["items"][0]["adjustments"][0]["evidence_reference"], "DPO-1");
        let v = app.get("/v1/audit/verify", &app.auditor()).await;
        assert_eq!(v.body["ok"], true, "{}", v.text);
        assert_eq!(v.body["volumes"]["ok"], true, "{}", v.text);
        assert_eq!(v.body["volumes"]["counters"], 1);
        // The counters are a cache of the ledger: an altered count is named.
        assert_eq!(sql(&app, "UPDATE transfer_volumes SET count = count + 7"), 1);
        let v = app.get("/v1/audit/verify", &app.auditor()).await;
        assert_eq!(v.body["volumes"]["ok"], false);
        assert_eq!(v.body["volumes"]["first_mismatch"], json!({"key": "pipl:acme-cn:non_sensitive",
            "period": year, "stored": 100_006, "rebuilt": 99_999}));
    }
}

on_each_backend! {
    async fn readiness_lists_the_grants_that_relied_on_a_label(app: TestApp) {
        let (party, _) = cn_world(&app).await;
        let g = app.grant(&party, json!({"service": "svc", "categories": ["user.contact"], "allowed_regions": ["OTHER"]})).await;
        let r = app.get("/v1/transfer-readiness", &app.alice()).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["grants"], json!([]));
        assert_eq!(r.body["enforcement"], "enforce");
        // A grant from before agreements were evidence keeps its label (the migration).
        let id = g["id"].as_str().unwrap();
        assert_eq!(sql(&app, &format!("UPDATE grants SET transfer_mechanism = 'pipl_standard_contract' WHERE id = '{id}'")), 1);
        let r = app.get("/v1/transfer-readiness", &app.alice()).await;
        assert_eq!(r.body["grants"][0]["grant"]["id"], id, "{}", r.text);
        assert!(r.body["grants"][0]["would_flip"].as_str().unwrap().contains("not evidence"));
    }
}

on_each_backend! {
    async fn marks_are_inherited_and_a_change_reaches_every_descendant(app: TestApp) {
        let key = "/v1/taxonomy/categories/user.behavior";
        let c = app.get(key, &app.alice()).await;
        assert_eq!(c.body["pipl_sensitive"], false);
        let r = app.patch_if(key, &app.alice(), &json!({"pipl_sensitive": true}), &c.etag()).await;
        assert_eq!(r.status, 403);
        let r = app.request(actix_web::http::Method::PATCH, key, Some(&app.admin()), Some(&json!({"pipl_sensitive": true})), None).await;
        assert_eq!(r.status, 428);
        let r = app.patch_if(key, &app.admin(), &json!({"pipl_sensitive": true, "us_dsp_classes": ["listed_identifier"]}), &c.etag()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let child = app.get("/v1/taxonomy/categories/user.behavior.browsing_history", &app.auditor()).await;
        assert_eq!(child.body["pipl_sensitive"], true, "{}", child.text);
        assert_eq!(child.body["us_dsp_classes"], json!(["listed_identifier"]));
        // A child cannot clear what its parent holds.
        let r = app.patch_if("/v1/taxonomy/categories/user.behavior.browsing_history", &app.admin(),
            &json!({"pipl_sensitive": false}), &child.etag()).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["pipl_sensitive"]);
        let r = app.patch_if(key, &app.admin(), &json!({"us_dsp_classes": ["covered_identifier"]}), "\"2\"").await;
        assert_eq!(r.status, 422);
        // Clearing at the parent clears the descendants it reached.
        let r = app.patch_if(key, &app.admin(), &json!({"pipl_sensitive": false}), "\"2\"").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let child = app.get("/v1/taxonomy/categories/user.behavior.browsing_history", &app.auditor()).await;
        assert_eq!(child.body["pipl_sensitive"], false);
        let events = app.get("/v1/audit/events?action=category.marked&limit=200", &app.auditor()).await;
        assert!(events.body["items"].as_array().unwrap().len() >= 4, "{}", events.text);
        // Purposes.
        let p = app.get("/v1/taxonomy/purposes/employment.recruitment", &app.auditor()).await;
        assert_eq!(p.body["us_dsp_ancillary"], true);
        let r = app.patch_if("/v1/taxonomy/purposes/employment.recruitment", &app.admin(), &json!({"us_dsp_ancillary": false}), &p.etag()).await;
        assert_eq!(r.status, 422, "inherited from employment: {}", r.text);
    }
}
