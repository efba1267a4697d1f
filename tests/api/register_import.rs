//! Procurement at scale, bullet 1: the register imported from a spreadsheet — dry run, a
//! per-row report with every error's row and column, idempotent by `external_ref`,
//! all-or-nothing or row by row, and the round trip with `/v1/exports/register.csv`.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, on_each_backend};

const HEADER: &str = "external_ref,kind,legal_name,country,data_locations,privacy_policy_url,contact_email,risk_tier,service,categories,allowed_regions,valid_until";

fn csv(rows: &[&str]) -> String {
    let mut s = HEADER.to_owned();
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

const GOOD: [&str; 3] = [
    "erp:V-1,third_party,Acme Mail Ltd,US,US;DE,https://acme.example/privacy,dpo@acme.example,low,newsletter,user.contact.email,US,2030-01-01T00:00:00Z",
    "erp:V-1,third_party,Acme Mail Ltd,US,US;DE,https://acme.example/privacy,dpo@acme.example,low,newsletter,user.name;user.contact.phone_number,US;OTHER,",
    "erp:V-2,affiliate,\"Acme Holdings, Inc.\",DE,DE,https://holdings.example/privacy,dpo@holdings.example,medium,,,,",
];

async fn import(app: &TestApp, query: &str, content_type: &str, body: String) -> Resp {
    import_as(app, &app.carol(), query, content_type, body).await
}

async fn import_as(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: String,
) -> Resp {
    app.send(
        TestRequest::post()
            .uri(&format!("/v1/imports/register{query}"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", content_type))
            .set_payload(body),
    )
    .await
}

async fn head(app: &TestApp) -> Value {
    app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"].clone()
}

fn counts(r: &Resp) -> (Value, Value, Value) {
    (
        r.body["parties"].clone(),
        r.body["grants"].clone(),
        r.body["rejected"].clone(),
    )
}

fn n(created: u64, amended: u64, unchanged: u64) -> Value {
    json!({"created": created, "updated": 0, "amended": amended, "unchanged": unchanged})
}

on_each_backend! {
    async fn a_spreadsheet_is_previewed_imported_and_read_back_unchanged(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let before = head(&app).await;
        let dry = import(&app, "?dry_run=true", "text/csv", csv(&GOOD)).await;
        assert_eq!(dry.status, 200, "[{}] {}", app.backend, dry.text);
        assert_eq!(dry.body["applied"], false);
        assert_eq!(counts(&dry), (n(2, 0, 1), n(2, 0, 0), json!(0)), "{}", dry.text);
        let rows: Vec<(u64, &str)> = dry.body["results"].as_array().unwrap().iter()
            .map(|r| (r["row"].as_u64().unwrap(), r["party"].as_str().unwrap())).collect();
        assert_eq!(rows, vec![(2, "created"), (3, "unchanged"), (4, "created")], "line numbers count the header");
        assert_eq!(head(&app).await, before, "a dry run writes nothing, not even to the ledger");
        assert_eq!(app.get("/v1/parties", &app.alice()).await.body["items"], json!([]));

        let done = import(&app, "", "text/csv", csv(&GOOD)).await;
        assert_eq!(done.status, 200, "{}", done.text);
        assert_eq!(done.body["applied"], true);
        assert_eq!(counts(&done), (n(2, 0, 1), n(2, 0, 0), json!(0)));
        let acme = app.get("/v1/parties?external_ref=erp:V-1", &app.alice()).await.body["items"][0].clone();
        assert_eq!(acme["status"], "pending_review");
        assert_eq!(acme["created_by"], "carol");
        assert_eq!(acme["risk_tier"], "low");
        let holdings = app.get("/v1/parties?external_ref=erp:V-2", &app.alice()).await.body["items"][0].clone();
        assert_eq!(holdings["legal_name"], "Acme Holdings, Inc.", "a quoted cell keeps its comma");
        let waiting = app.get("/v1/grants?effective=pending_approval", &app.alice()).await;
        assert_eq!(waiting.body["items"].as_array().unwrap().len(), 2, "imported grants wait for approval");

        let at = head(&app).await;
        let again = import(&app, "", "text/csv", csv(&GOOD)).await;
        assert_eq!(counts(&again), (n(0, 0, 3), n(0, 0, 2), json!(0)), "{}", again.text);
        assert_eq!(head(&app).await, at, "idempotent by external_ref: nothing written");

        // The round trip: after trust and approvals, the export reads back as unchanged.
        app.set_status(&acme, "trusted").await;
        for g in waiting.body["items"].as_array().unwrap() {
            app.approve_as(g, &app.bob()).await;
        }
        let export = app.get("/v1/exports/register.csv", &app.auditor()).await;
        let at = head(&app).await;
        let back = import(&app, "", "text/csv", export.text.clone()).await;
        assert_eq!(back.status, 200, "{}", back.text);
        assert_eq!(counts(&back), (n(0, 0, 3), n(0, 0, 2), json!(0)), "{}", back.text);
        assert_eq!(head(&app).await, at, "an unchanged import writes nothing");

        // One edited cell in the exported sheet: that grant is amended (renewed), waiting. The
        // party is trusted now and carol registered it (through the import): four eyes hold
        // for an import as for a person, so her renewal is refused and bob's is taken.
        let edited = export.text.replacen("2030-01-01T00:00:00.000000Z", "2031-01-01T00:00:00.000000Z", 1);
        assert_ne!(edited, export.text);
        let alone = import(&app, "", "text/csv", edited.clone()).await;
        assert_eq!(alone.status, 422, "{}", alone.text);
        assert!(alone.text.contains("Four eyes"), "{}", alone.text);
        let renewed = import_as(&app, &app.bob(), "", "text/csv", edited).await;
        assert_eq!(counts(&renewed), (n(0, 0, 3), n(0, 1, 1), json!(0)), "{}", renewed.text);
        let amended = renewed.body["results"].as_array().unwrap().iter().find(|r| r["grant"] == "amended").unwrap();
        let new = app.get(&format!("/v1/grants/{}", amended["grant_id"].as_str().unwrap()), &app.auditor()).await;
        assert_eq!(new.body["effective"], "pending_approval");
        assert!(new.body["supersedes"].is_string());
        assert_eq!(new.body["valid_until"], "2031-01-01T00:00:00.000000Z");
    }
}

on_each_backend! {
    async fn every_error_is_reported_by_row_and_column_and_the_caller_chooses_all_or_nothing(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let bad = [
            GOOD[0],
            "erp:V-3,third_party,,XX,US,http://nope.example,dpo@nope.example,low,newsletter,user.nope,US,",
            "erp:V-4,third_party,Tiny Ltd,US,US,https://tiny.example/p,dpo@tiny.example,extreme,,,,",
            ",third_party,No Key Ltd,US,US,https://nokey.example/p,dpo@nokey.example,low,,,,",
        ];
        let before = head(&app).await;
        let r = import(&app, "", "text/csv", csv(&bad)).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.is_problem());
        let fields = r.error_fields();
        for f in ["row 3: country", "row 3: privacy_policy_url", "row 4: risk_tier", "row 5: external_ref"] {
            assert!(fields.contains(&f.to_owned()), "{f} missing from {fields:?}");
        }
        assert_eq!(head(&app).await, before, "all or nothing: nothing written");

        let dry = import(&app, "?dry_run=true&mode=row_by_row", "text/csv", csv(&bad)).await;
        assert_eq!(dry.status, 200, "{}", dry.text);
        let row3 = &dry.body["results"][1];
        let cols: Vec<&str> = row3["errors"].as_array().unwrap().iter().map(|e| e["column"].as_str().unwrap()).collect();
        assert!(cols.contains(&"country") && cols.contains(&"privacy_policy_url"), "{row3}");
        assert_eq!(dry.body["rejected"], 3);

        let some = import(&app, "?mode=row_by_row", "text/csv", csv(&bad)).await;
        assert_eq!(some.status, 200, "{}", some.text);
        assert_eq!(some.body["applied"], true);
        assert_eq!(counts(&some), (n(1, 0, 0), n(1, 0, 0), json!(3)));
        assert_eq!(app.get("/v1/parties", &app.alice()).await.body["items"].as_array().unwrap().len(), 1);

        // A rule only the register can judge: an unknown category key, after parsing.
        let unknown = import(&app, "?dry_run=true", "text/csv", csv(&[
            "erp:V-5,third_party,Five Ltd,US,US,https://five.example/p,dpo@five.example,low,newsletter,user.nope,US,"])).await;
        assert_eq!(unknown.body["results"][0]["errors"][0]["column"], "categories", "{}", unknown.text);
    }
}

on_each_backend! {
    async fn the_file_itself_is_judged_first_and_json_rows_work_the_same(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let r = import(&app, "", "text/csv", "external_ref,legal_nam\nerp:V-1,Acme\n".into()).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["legal_nam"]);
        let r = import(&app, "", "text/csv", "legal_name\nAcme\n".into()).await;
        assert_eq!(r.error_fields(), vec!["header"], "each row must name its party");
        let r = import(&app, "", "text/plain", csv(&GOOD)).await;
        assert_eq!(r.status, 415, "{}", r.text);
        let r = import(&app, "?mode=some", "text/csv", csv(&GOOD)).await;
        assert_eq!(r.error_fields(), vec!["mode"]);
        let r = import(&app, "?dryrun=true", "text/csv", csv(&GOOD)).await;
        assert_eq!(r.status, 400, "an unknown parameter: {}", r.text);
        let service = app.send(TestRequest::post().uri("/v1/imports/register")
            .insert_header(("Authorization", format!("Bearer {}", app.token("service", "newsletter"))))
            .insert_header(("Content-Type", "text/csv")).set_payload(csv(&GOOD))).await;
        assert_eq!(service.status, 403);

        let rows = json!([{"external_ref": "erp:J-1", "kind": "third_party", "legal_name": "Json Ltd", "country": "US",
            "data_locations": ["US"], "privacy_policy_url": "https://json.example/p", "contact_email": "dpo@json.example",
            "service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"], "separate_consent": true}]);
        let r = import(&app, "", "application/json", rows.to_string()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(counts(&r), (n(1, 0, 0), n(1, 0, 0), json!(0)));
        let again = import(&app, "", "application/json", rows.to_string()).await;
        assert_eq!(counts(&again), (n(0, 0, 1), n(0, 0, 1), json!(0)), "{}", again.text);
    }
}

on_each_backend! {
    async fn the_documented_template_imports_as_twenty_vendors(app: TestApp) {
        app.service("newsletter", &["marketing.communications"]).await;
        let template = include_str!("../../docs/examples/register-template.csv");
        let dry = import(&app, "?dry_run=true", "text/csv", template.to_owned()).await;
        assert_eq!(dry.status, 200, "{}", dry.text);
        assert_eq!(counts(&dry), (n(20, 0, 5), n(25, 0, 0), json!(0)), "{}", dry.text);
        let done = import(&app, "", "text/csv", template.to_owned()).await;
        assert_eq!(done.body["applied"], true, "{}", done.text);
        let again = import(&app, "", "text/csv", template.to_owned()).await;
        assert_eq!(counts(&again), (n(0, 0, 25), n(0, 0, 25), json!(0)), "{}", again.text);
        let export = app.get("/v1/exports/register.csv", &app.auditor()).await;
        let back = import(&app, "", "text/csv", export.text).await;
        assert_eq!(counts(&back), (n(0, 0, 25), n(0, 0, 25), json!(0)), "{}", back.text);
    }
}

on_each_backend! {
    async fn ownership_is_a_column_read_back_unchanged_and_judged_like_the_api(app: TestApp) {
        let header = "external_ref,kind,legal_name,country,data_locations,privacy_policy_url,contact_email,ownership";
        let file = |ownership: &str| {
            format!("{header}\nerp:O-1,third_party,Owned Ltd,SG,SG,https://owned.example/p,dpo@owned.example,{ownership}\n")
        };
        let r = import(&app, "", "text/csv", file("CN:30;US:10")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let p = app.get("/v1/parties?external_ref=erp:O-1", &app.alice()).await.body["items"][0].clone();
        assert_eq!(p["ownership"], json!([{"country": "CN", "percent": 30}, {"country": "US", "percent": 10}]));
        let export = app.get("/v1/exports/register.csv", &app.auditor()).await;
        assert!(export.text.lines().next().unwrap().split(',').any(|c| c == "ownership"), "{}", export.text);
        assert!(export.text.contains(",CN:30;US:10"), "{}", export.text);
        let at = head(&app).await;
        let back = import(&app, "", "text/csv", export.text.clone()).await;
        assert_eq!(counts(&back).0, n(0, 0, 1), "{}", back.text);
        assert_eq!(head(&app).await, at, "read back unchanged");
        // Ownership is what a review judged: a change sends nothing back for a party pending
        // review, but it is an update, and the cell's rules are the API's.
        let r = import(&app, "", "text/csv", file("CN:50")).await;
        assert_eq!(counts(&r).0, json!({"created": 0, "updated": 1, "amended": 0, "unchanged": 0}), "{}", r.text);
        for (cell, message) in [("CN30", "COUNTRY:PERCENT"), ("XX:10", "ISO 3166-1"), ("CN:80;US:30", "more than 100")] {
            let r = import(&app, "?dry_run=true", "text/csv", file(cell)).await;
            let errors = &r.body["results"][0]["errors"];
            assert_eq!(errors[0]["column"], "ownership", "{cell}: {}", r.text);
            assert!(errors[0]["message"].as_str().unwrap().contains(message), "{cell}: {}", r.text);
        }
    }
}

on_each_backend! {
    async fn agreements_are_rows_too_and_a_grant_names_one_by_reference(app: TestApp) {
        app.entity("acme-de", "DE").await;
        app.service_for("newsletter", &["marketing.communications"], &["acme-de"]).await;
        let header = "external_ref,kind,legal_name,country,data_locations,privacy_policy_url,contact_email,\
            agreement_exporter,agreement_kind,agreement_reference,agreement_valid_from,agreement_tia_reference,\
            service,categories,allowed_regions,grant_agreements";
        let party = "erp:A-1,third_party,Mail Inc,US,US,https://mail.example/p,dpo@mail.example";
        let file = format!("{header}\n{party},acme-de,eu_scc,SCC-7,2026-01-01T00:00:00Z,TIA-7,,,,\n\
            {party},,,,,,newsletter,user.contact.email,US,SCC-7\n");
        let r = import(&app, "", "text/csv", file.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["agreements"]["created"], 1, "{}", r.text);
        assert_eq!(r.body["grants"]["created"], 1, "{}", r.text);
        let agreement_id = r.body["results"][0]["agreement_id"].as_str().unwrap().to_owned();
        let grant = app.get(&format!("/v1/grants/{}", r.body["results"][1]["grant_id"].as_str().unwrap()), &app.auditor()).await;
        assert_eq!(grant.body["agreements"], json!([agreement_id]), "named by reference, stored by id");
        let again = import(&app, "", "text/csv", file).await;
        assert_eq!(again.body["agreements"]["unchanged"], 1, "{}", again.text);
        assert_eq!(again.body["grants"]["unchanged"], 1, "{}", again.text);

        // The export writes the agreement as a row of its own and reads back unchanged.
        let export = app.get("/v1/exports/register.csv", &app.auditor()).await;
        assert!(export.text.contains(&format!(",{agreement_id},acme-de,eu_scc,SCC-7,")), "{}", export.text);
        let at = head(&app).await;
        let back = import(&app, "", "text/csv", export.text.clone()).await;
        assert_eq!(back.body["agreements"], json!({"created": 0, "updated": 0, "amended": 0, "unchanged": 1}), "{}", back.text);
        assert_eq!(head(&app).await, at);
        // An edited cell changes the agreement in place; its kind cannot change.
        let edited = export.text.replace(",TIA-7,", ",TIA-8,");
        let r = import(&app, "", "text/csv", edited).await;
        assert_eq!(r.body["agreements"]["updated"], 1, "{}", r.text);
        let a = app.get(&format!("/v1/agreements/{agreement_id}"), &app.auditor()).await;
        assert_eq!(a.body["tia_reference"], "TIA-8");
        let r = import(&app, "?dry_run=true", "text/csv", export.text.replace(",eu_scc,", ",eu_bcr,")).await;
        let errors = r.body["results"].as_array().unwrap().iter().flat_map(|x| x["errors"].as_array().cloned().unwrap_or_default())
            .map(|e| e["column"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(errors, vec!["agreement_kind"], "{}", r.text);
        // The cells are judged as POST /v1/parties/{id}/agreements judges them, named by column.
        let bad = format!("{header}\n{party},nope,eu_scc,SCC-9,yesterday,,,,,\n");
        let r = import(&app, "?dry_run=true", "text/csv", bad).await;
        let cols: Vec<&str> = r.body["results"][0]["errors"].as_array().unwrap().iter().map(|e| e["column"].as_str().unwrap()).collect();
        assert_eq!(cols, vec!["agreement_valid_from"], "{}", r.text);
        let bad = format!("{header}\n{party},nope,eu_scc,SCC-9,2026-01-01T00:00:00Z,,,,,\n");
        let r = import(&app, "?dry_run=true", "text/csv", bad).await;
        assert_eq!(r.body["results"][0]["errors"][0]["column"], "agreement_exporter", "{}", r.text);
    }
}
