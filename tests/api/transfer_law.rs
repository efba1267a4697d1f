//! The three regimes over HTTP, at their edges (docs/TRANSFERS.md): every threshold on both
//! sides, the filing deadline, the assessment's three years, DPF certification, the
//! corporate-group exemption, and Hong Kong read two ways.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

fn ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339()
}

/// A register for one regime: entities (key, country, ciio), a service `svc` listing them and
/// declared for marketing and employment, and a trusted party.
struct Law {
    party: Value,
}

impl Law {
    async fn new(app: &TestApp, entities: &[(&str, &str, bool)], party: Value) -> Law {
        for (key, country, ciio) in entities {
            let r = app
                .post(
                    "/v1/entities",
                    &app.admin(),
                    &json!({"key": key, "legal_name": key, "country": country, "ciio": ciio}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let keys: Vec<&str> = entities.iter().map(|e| e.0).collect();
        app.service_for("svc", &["marketing", "employment"], &keys)
            .await;
        let party = app.party(party).await;
        let party = app.set_status(&party, "trusted").await;
        Law { party }
    }

    fn id(&self) -> &str {
        self.party["id"].as_str().unwrap()
    }

    /// Records an agreement; `extra` overrides the defaults (in force for 30 days, complete).
    async fn agreement(&self, app: &TestApp, exporter: &str, kind: &str, extra: Value) -> String {
        let mut body = json!({"exporter": exporter, "kind": kind, "reference": format!("{kind}-{exporter}"),
            "valid_from": ago(30), "pipia_reference": "PIPIA-1", "filing_reference": "F-1", "tia_reference": "TIA-1"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app
            .post(
                &format!("/v1/parties/{}/agreements", self.id()),
                &app.alice(),
                &body,
            )
            .await;
        assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// A grant for `svc` on `categories`, everywhere, with the PIPL prerequisites.
    async fn grant(&self, app: &TestApp, categories: &[&str], agreements: &[String]) -> Value {
        app.grant(
            &self.party,
            json!({"service": "svc", "categories": categories,
            "allowed_regions": ["PRC", "US", "OTHER"], "agreements": agreements,
            "pipia_reference": "PIPIA-1", "separate_consent": true}),
        )
        .await
    }

    fn ask(
        &self,
        categories: &[&str],
        destination: &str,
        subject: &str,
        count: i64,
        exporter: &str,
    ) -> Value {
        json!({"party_id": self.id(), "purpose": "marketing.communications.email", "categories": categories,
            "destination_country": destination, "subject_country": subject, "subject_count": count, "exporter": exporter})
    }
}

/// `(code, regime)` of each reason.
fn codes(r: &crate::helpers::Resp) -> Vec<(String, String)> {
    r.body["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {}", r.text))
        .iter()
        .map(|x| {
            (
                x["code"].as_str().unwrap().to_owned(),
                x["regime"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn pipl(code: &str) -> Vec<(String, String)> {
    vec![(code.to_owned(), "pipl".to_owned())]
}

async fn approved(app: &TestApp, body: Value) -> crate::helpers::Resp {
    let r = app.share("svc", body).await;
    assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
    assert_eq!(
        r.body["outcome"], "approved",
        "[{}] {}",
        app.backend, r.text
    );
    r
}

async fn denied(app: &TestApp, body: Value) -> crate::helpers::Resp {
    let r = app.share("svc", body).await;
    assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
    assert_eq!(r.body["outcome"], "denied", "[{}] {}", app.backend, r.text);
    r
}

const PRC: [(&str, &str, bool); 6] = [
    ("e1", "CN", false),
    ("e2", "CN", false),
    ("e3", "CN", false),
    ("e4", "CN", false),
    ("e5", "CN", false),
    ("e6", "CN", false),
];

fn sg_party() -> Value {
    json!({"country": "SG", "data_locations": ["SG"]})
}

on_each_backend! {
    async fn pipl_non_sensitive_tiers_turn_at_100_000_and_1_000_000(app: TestApp) {
        let law = Law::new(&app, &PRC, sg_party()).await;
        let e3 = law.agreement(&app, "e3", "pipl_standard_contract", json!({})).await;
        let e4 = law.agreement(&app, "e4", "pipl_standard_contract", json!({})).await;
        law.grant(&app, &["user.contact.email"], &[e3, e4]).await;
        let email = ["user.contact.email"];
        // 99,999 people: exempt (CAC 2024 Art. 5(4)), no agreement needed.
        let r = approved(&app, law.ask(&email, "SG", "CN", 99_999, "e1")).await;
        assert_eq!(r.body["regimes"][0]["regime"], "pipl");
        assert_eq!(r.body["regimes"][0]["tier"], "exempt");
        assert_eq!(r.body["regimes"][0]["counters"][0]["with_share"], 99_999);
        assert_eq!(r.body["rules_version"], "2026-01");
        // 100,000: the contract tier (Art. 8) and no agreement for e2.
        let r = denied(&app, law.ask(&email, "SG", "CN", 100_000, "e2")).await;
        assert_eq!(codes(&r), pipl("transfer_mechanism_missing"));
        assert_eq!(r.body["reasons"][0]["rule"], "CAC 2024 Arts. 7-8");
        assert!(r.body["reasons"][0]["message"].as_str().unwrap().contains("threshold"), "{}", r.text);
        // 999,999 with a standard contract: still the contract tier.
        let r = approved(&app, law.ask(&email, "SG", "CN", 999_999, "e3")).await;
        assert_eq!(r.body["regimes"][0]["tier"], "contract");
        assert_eq!(r.body["regimes"][0]["agreements"][0]["state"], "in_force");
        // 1,000,000: the assessment tier (Art. 7); a standard contract is below it.
        let r = denied(&app, law.ask(&email, "SG", "CN", 1_000_000, "e4")).await;
        assert_eq!(codes(&r), pipl("transfer_mechanism_insufficient"));
        // Denied shares count nothing; approved ones count, per exporter.
        let v = app.get("/v1/transfer-volumes", &app.auditor()).await;
        let counts: Vec<(String, i64)> = v.body["items"].as_array().unwrap().iter()
            .map(|c| (c["key"].as_str().unwrap().to_owned(), c["count"].as_i64().unwrap())).collect();
        assert_eq!(counts, vec![
            ("pipl:e1:non_sensitive".to_owned(), 99_999),
            ("pipl:e3:non_sensitive".to_owned(), 999_999),
        ], "[{}] {}", app.backend, v.text);
    }
}

on_each_backend! {
    async fn pipl_sensitive_data_needs_a_contract_from_one_person_and_an_assessment_from_10_000(app: TestApp) {
        let law = Law::new(&app, &PRC, sg_party()).await;
        let e2 = law.agreement(&app, "e2", "pipl_standard_contract", json!({})).await;
        let e3 = law.agreement(&app, "e3", "pipl_standard_contract", json!({})).await;
        let e4 = law.agreement(&app, "e4", "cac_security_assessment", json!({})).await;
        law.grant(&app, &["user.financial"], &[e2, e3, e4]).await;
        let money = ["user.financial.bank_account"];
        let r = denied(&app, law.ask(&money, "SG", "CN", 1, "e1")).await;
        assert_eq!(codes(&r), pipl("transfer_mechanism_missing"));
        approved(&app, law.ask(&money, "SG", "CN", 9_999, "e2")).await;
        let r = denied(&app, law.ask(&money, "SG", "CN", 10_000, "e3")).await;
        assert_eq!(codes(&r), pipl("transfer_mechanism_insufficient"));
        let r = approved(&app, law.ask(&money, "SG", "CN", 10_000, "e4")).await;
        assert_eq!(r.body["regimes"][0]["tier"], "assessment");
        // Children under 14 make every category sensitive (PIPL Art. 28).
        let mut minors = law.ask(&["user.name"], "SG", "CN", 5, "e1");
        minors["subjects_include_minors_under_14"] = json!(true);
        law.grant(&app, &["user.name"], &[]).await;
        let r = denied(&app, minors.clone()).await;
        assert_eq!(codes(&r), pipl("transfer_mechanism_missing"));
        minors["subjects_include_minors_under_14"] = json!(false);
        approved(&app, minors).await;
    }
}

on_each_backend! {
    async fn splitting_a_share_gains_nothing_the_counter_includes_every_approval(app: TestApp) {
        let law = Law::new(&app, &PRC, sg_party()).await;
        law.grant(&app, &["user.contact.email"], &[]).await;
        let email = ["user.contact.email"];
        approved(&app, law.ask(&email, "SG", "CN", 60_000, "e1")).await;
        let r = denied(&app, law.ask(&email, "SG", "CN", 40_000, "e1")).await;
        assert_eq!(codes(&r), pipl("transfer_mechanism_missing"));
        assert_eq!(r.body["regimes"][0]["counters"][0]["before"], 60_000);
        assert_eq!(r.body["regimes"][0]["counters"][0]["with_share"], 100_000);
        approved(&app, law.ask(&email, "SG", "CN", 39_999, "e1")).await;
    }
}

on_each_backend! {
    async fn a_standard_contract_unfiled_after_14_days_is_incomplete(app: TestApp) {
        let law = Law::new(&app, &PRC, sg_party()).await;
        let late = law.agreement(&app, "e1", "pipl_standard_contract", json!({"valid_from": ago(15), "filing_reference": null})).await;
        let due = law.agreement(&app, "e2", "pipl_standard_contract", json!({"valid_from": ago(13), "filing_reference": null})).await;
        law.grant(&app, &["user.contact.email"], &[late.clone(), due]).await;
        let email = ["user.contact.email"];
        let r = denied(&app, law.ask(&email, "SG", "CN", 150_000, "e1")).await;
        assert_eq!(codes(&r), pipl("transfer_mechanism_incomplete"));
        assert!(r.body["reasons"][0]["message"].as_str().unwrap().contains("filing_reference"), "{}", r.text);
        approved(&app, law.ask(&email, "SG", "CN", 150_000, "e2")).await;
        // Filing it completes it.
        let a = app.get(&format!("/v1/agreements/{late}"), &app.alice()).await;
        let r = app.patch_if(&format!("/v1/agreements/{late}"), &app.alice(), &json!({"filing_reference": "F-9"}), &a.etag()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        approved(&app, law.ask(&email, "SG", "CN", 150_000, "e1")).await;
    }
}

on_each_backend! {
    async fn a_cac_assessment_ends_three_years_after_it_was_issued(app: TestApp) {
        let ciio = [("old", "CN", true), ("young", "CN", true)];
        let law = Law::new(&app, &ciio, sg_party()).await;
        let old = law.agreement(&app, "old", "cac_security_assessment", json!({"valid_from": ago(3 * 365 + 2)})).await;
        let young = law.agreement(&app, "young", "cac_security_assessment", json!({"valid_from": ago(3 * 365 - 2)})).await;
        law.grant(&app, &["user.contact.email"], &[old, young]).await;
        // A CIIO exporter is in the assessment tier from the first person.
        let r = denied(&app, law.ask(&["user.contact.email"], "SG", "CN", 1, "old")).await;
        assert_eq!(codes(&r), pipl("transfer_mechanism_expired"));
        approved(&app, law.ask(&["user.contact.email"], "SG", "CN", 1, "young")).await;
        // An extension past three years is a new agreement (CAC 2024 Art. 9).
        let r = app.post(&format!("/v1/parties/{}/agreements", law.id()), &app.alice(),
            &json!({"exporter": "young", "kind": "cac_security_assessment", "reference": "X", "valid_from": "2026-01-01T00:00:00Z",
                "valid_until": "2029-01-02T00:00:00Z", "pipia_reference": "P"})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.error_fields(), vec!["valid_until"]);
        let r = app.post(&format!("/v1/parties/{}/agreements", law.id()), &app.alice(),
            &json!({"exporter": "young", "kind": "cac_security_assessment", "reference": "X", "valid_from": "2026-01-01T00:00:00Z",
                "valid_until": "2029-01-01T00:00:00Z", "pipia_reference": "P"})).await;
        assert_eq!(r.status, 201, "exactly three years: {}", r.text);
    }
}

on_each_backend! {
    async fn the_prc_regime_needs_pipia_consent_and_a_granted_exemption(app: TestApp) {
        let law = Law::new(&app, &PRC, sg_party()).await;
        let bare = app.grant(&law.party, json!({"service": "svc", "categories": ["user.name"], "allowed_regions": ["OTHER"]})).await;
        let r = denied(&app, law.ask(&["user.name"], "SG", "CN", 10, "e1")).await;
        assert_eq!(codes(&r), pipl("pipl_prerequisite_missing"));
        assert_eq!(r.body["reasons"][0]["rule"], "PIPL Arts. 39, 55");
        let mut ask = law.ask(&["user.contact.email"], "SG", "CN", 500_000, "e1");
        law.grant(&app, &["user.contact.email"], &[]).await;
        ask["exemption"] = json!("hr_management");
        let r = denied(&app, ask.clone()).await;
        assert_eq!(codes(&r), pipl("exemption_not_granted"));
        let g = app.get(&format!("/v1/grants/{}", bare["id"].as_str().unwrap()), &app.alice()).await;
        assert_eq!(g.status, 200);
        let email_grant = law.grant(&app, &["user.contact.phone_number"], &[]).await;
        let path = format!("/v1/grants/{}", email_grant["id"].as_str().unwrap());
        // Four eyes (#15): the party's registrant (alice) may not add an exemption alone.
        let r = app.patch_if(&path, &app.alice(), &json!({"exemptions": ["hr_management"]}), "\"2\"").await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app.patch_if(&path, &app.carol(), &json!({"exemptions": ["hr_management"]}), "\"2\"").await;
        assert_eq!(r.status, 200, "{}", r.text);
        // An added exemption widens the grant: it waits for a second person again (#15).
        assert_eq!(r.body["effective"], "pending_approval", "{}", r.text);
        assert_eq!(r.body["requested_by"], "carol");
        let mut phone = ask.clone();
        phone["categories"] = json!(["user.contact.phone_number"]);
        let waiting = denied(&app, phone.clone()).await;
        assert_eq!(waiting.body["reasons"][0]["code"], "grant_not_approved", "{}", waiting.text);
        app.approve(&r.body).await;
        let r = approved(&app, phone).await;
        assert_eq!(r.body["regimes"][0]["exemption"], "hr_management");
        // Data staying on the mainland with a mainland party is no export.
        let local = app.party(json!({"country": "CN", "data_locations": ["CN"]})).await;
        let local = app.set_status(&local, "trusted").await;
        app.grant(&local, json!({"service": "svc", "categories": ["user.name"], "allowed_regions": ["PRC"]})).await;
        let mut home = law.ask(&["user.name"], "CN", "CN", 10, "e1");
        home["party_id"] = local["id"].clone();
        let r = approved(&app, home).await;
        assert_eq!(r.body["regimes"], json!([]));
    }
}

on_each_backend! {
    async fn the_exporter_must_be_resolved_and_a_restricted_recipient_gets_nothing(app: TestApp) {
        let law = Law::new(&app, &PRC, json!({"country": "SG", "data_locations": ["SG"], "pipl_restricted": true})).await;
        law.grant(&app, &["user.name"], &[]).await;
        let mut ask = law.ask(&["user.name"], "SG", "CN", 10, "e1");
        let r = denied(&app, ask.clone()).await;
        assert_eq!(codes(&r), pipl("recipient_restricted"));
        assert_eq!(r.body["reasons"][0]["rule"], "PIPL Art. 42");
        // alice set it; alice cannot clear it (four eyes), bob can.
        let path = format!("/v1/parties/{}", law.id());
        let p = app.get(&path, &app.alice()).await;
        let r = app.patch_if(&path, &app.alice(), &json!({"pipl_restricted": false}), &p.etag()).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app.patch_if(&path, &app.bob(), &json!({"pipl_restricted": false}), &p.etag()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // Several entities and none named: unresolved.
        ask.as_object_mut().unwrap().remove("exporter");
        let r = denied(&app, ask.clone()).await;
        assert_eq!(codes(&r), pipl("exporter_not_declared"));
        assert!(r.body["reasons"][0].get("category").is_none());
        assert!(r.body["exporter"].is_null());
        ask["exporter"] = json!("nobody");
        assert_eq!(app.share("svc", ask).await.status, 422);
    }
}

on_each_backend! {
    async fn dsp_genomic_data_is_bulk_above_100_people_and_prohibited_to_a_covered_person(app: TestApp) {
        let law = Law::new(&app, &[("us", "US", false)], json!({"country": "CN", "data_locations": ["SG"]})).await;
        let other = app.set_status(&app.party(json!({"country": "CN", "data_locations": ["SG"]})).await, "trusted").await;
        law.grant(&app, &["user.health_and_medical"], &[]).await;
        app.grant(&other, json!({"service": "svc", "categories": ["user.health_and_medical"], "allowed_regions": ["OTHER"]})).await;
        let gene = ["user.health_and_medical.genetic"];
        let r = approved(&app, law.ask(&gene, "SG", "US", 100, "us")).await;
        assert_eq!(r.body["regimes"][0]["regime"], "us_dsp");
        assert_eq!(r.body["regimes"][0]["bulk"]["genomic"], false);
        let mut ask = law.ask(&gene, "SG", "US", 101, "us");
        ask["party_id"] = other["id"].clone();
        let r = denied(&app, ask).await;
        assert_eq!(codes(&r), vec![("us_dsp_prohibited".to_owned(), "us_dsp".to_owned())]);
        assert_eq!(r.body["reasons"][0]["rule"], "28 CFR 202.303");
    }
}

on_each_backend! {
    async fn dsp_health_data_needs_the_security_requirements_above_10_000(app: TestApp) {
        let law = Law::new(&app, &[("us", "US", false)], json!({"country": "CN", "data_locations": ["SG"]})).await;
        let second = app.set_status(&app.party(json!({"country": "CN", "data_locations": ["SG"]})).await, "trusted").await;
        law.grant(&app, &["user.health_and_medical"], &[]).await;
        app.grant(&second, json!({"service": "svc", "categories": ["user.health_and_medical"], "allowed_regions": ["OTHER"]})).await;
        let health = ["user.health_and_medical"];
        approved(&app, law.ask(&health, "SG", "US", 10_000, "us")).await;
        let mut ask = law.ask(&health, "SG", "US", 10_001, "us");
        ask["party_id"] = second["id"].clone();
        let r = denied(&app, ask.clone()).await;
        assert_eq!(codes(&r), vec![("transfer_mechanism_missing".to_owned(), "us_dsp".to_owned())]);
        assert!(r.body["reasons"][0]["message"].as_str().unwrap().contains("us_dsp_security_requirements"), "{}", r.text);
        // With the CISA security requirements recorded and on the grant, it is restricted, not denied.
        let sec = app.post(&format!("/v1/parties/{}/agreements", second["id"].as_str().unwrap()), &app.alice(),
            &json!({"exporter": "us", "kind": "us_dsp_security_requirements", "reference": "SEC-1", "valid_from": ago(1)})).await;
        assert_eq!(sec.status, 201, "{}", sec.text);
        let grant = app.grant(&second, json!({"service": "svc", "categories": ["user.health_and_medical"],
            "allowed_regions": ["OTHER"], "agreements": [sec.body["id"]]})).await;
        let r = approved(&app, ask).await;
        assert_eq!(r.body["grants"][0]["grant_id"], grant["id"]);
        // A US party is no covered person: the DSP does not apply.
        let us = app.set_status(&app.party(json!({"country": "US", "data_locations": ["US"]})).await, "trusted").await;
        app.grant(&us, json!({"service": "svc", "categories": ["user.health_and_medical"], "allowed_regions": ["US"]})).await;
        let mut ask = law.ask(&health, "US", "US", 50_000, "us");
        ask["party_id"] = us["id"].clone();
        let r = approved(&app, ask).await;
        assert_eq!(r.body["regimes"], json!([]));
    }
}

on_each_backend! {
    async fn an_affiliate_with_an_ancillary_purpose_is_exempt_from_the_dsp(app: TestApp) {
        let law = Law::new(&app, &[("us", "US", false)], json!({"kind": "affiliate", "country": "CN", "data_locations": ["SG"]})).await;
        law.grant(&app, &["user.financial"], &[]).await;
        let mut ask = law.ask(&["user.financial"], "SG", "US", 20_000, "us");
        ask["purpose"] = json!("marketing.communications.email");
        let r = denied(&app, ask.clone()).await;
        assert_eq!(codes(&r), vec![("transfer_mechanism_missing".to_owned(), "us_dsp".to_owned())]);
        ask["purpose"] = json!("employment.recruitment");
        let r = approved(&app, ask).await;
        assert_eq!(r.body["regimes"][0]["exemption"], "corporate_group");
    }
}

on_each_backend! {
    async fn hong_kong_is_outside_the_mainland_for_pipl_and_china_for_the_dsp(app: TestApp) {
        let law = Law::new(&app, &[("cn", "CN", false), ("us", "US", false)], json!({"country": "HK", "data_locations": ["HK"]})).await;
        app.grant(&law.party, json!({"service": "svc", "categories": ["user"], "allowed_regions": ["OTHER"]})).await;
        // PRC subjects' data to Hong Kong leaves the mainland: the PRC regime applies.
        let r = denied(&app, law.ask(&["user.name"], "HK", "CN", 10, "cn")).await;
        assert_eq!(codes(&r), pipl("pipl_prerequisite_missing"));
        // A Hong Kong party is a covered person: bulk genomic data is prohibited.
        let r = denied(&app, law.ask(&["user.health_and_medical.genetic"], "HK", "US", 101, "us")).await;
        assert_eq!(codes(&r), vec![("us_dsp_prohibited".to_owned(), "us_dsp".to_owned())]);
    }
}

on_each_backend! {
    async fn gdpr_follows_the_recipients_dpf_certification_to_the_day(app: TestApp) {
        let today = Utc::now().date_naive();
        let law = Law::new(&app, &[("de", "DE", false)], json!({"country": "US", "data_locations": ["US"],
            "dpf_certified_until": today.to_string()})).await;
        law.grant(&app, &["user.contact.email"], &[]).await;
        let ask = law.ask(&["user.contact.email"], "US", "DE", 10, "de");
        let r = approved(&app, ask.clone()).await;
        assert_eq!(r.body["regimes"][0]["regime"], "gdpr");
        let path = format!("/v1/parties/{}", law.id());
        let p = app.get(&path, &app.alice()).await;
        let yesterday = (today - Duration::days(1)).to_string();
        let r = app.patch_if(&path, &app.alice(), &json!({"dpf_certified_until": yesterday}), &p.etag()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = denied(&app, ask.clone()).await;
        assert_eq!(codes(&r), vec![("transfer_mechanism_missing".to_owned(), "gdpr".to_owned())]);
        assert_eq!(r.body["reasons"][0]["rule"], "GDPR Art. 46");
        // SCCs without a transfer impact assessment are incomplete; with one they back it.
        let scc = law.agreement(&app, "de", "eu_scc", json!({"tia_reference": null})).await;
        law.grant(&app, &["user.contact.phone_number"], std::slice::from_ref(&scc)).await;
        let mut ask = ask;
        ask["categories"] = json!(["user.contact.phone_number"]);
        let r = denied(&app, ask.clone()).await;
        assert_eq!(codes(&r), vec![("transfer_mechanism_incomplete".to_owned(), "gdpr".to_owned())]);
        let a = app.get(&format!("/v1/agreements/{scc}"), &app.alice()).await;
        let r = app.patch_if(&format!("/v1/agreements/{scc}"), &app.alice(), &json!({"tia_reference": "TIA-2"}), &a.etag()).await;
        assert_eq!(r.status, 200);
        approved(&app, ask).await;
    }
}

on_each_backend! {
    async fn dsp_counts_devices_for_precise_geolocation_and_combines_listed_identifiers(app: TestApp) {
        let law = Law::new(&app, &[("us", "US", false)], json!({"country": "RU", "data_locations": ["SG"]})).await;
        let next = app.set_status(&app.party(json!({"country": "RU", "data_locations": ["SG"]})).await, "trusted").await;
        law.grant(&app, &["user"], &[]).await;
        app.grant(&next, json!({"service": "svc", "categories": ["user"], "allowed_regions": ["OTHER"]})).await;
        // Devices, not people, for precise geolocation (202.205(c)): 1,000 is not bulk, 1,001 is.
        let mut ask = law.ask(&["user.location.precise"], "SG", "US", 10, "us");
        ask["device_count"] = json!(1_000);
        approved(&app, ask.clone()).await;
        ask["device_count"] = json!(1_001);
        ask["party_id"] = next["id"].clone();
        let r = denied(&app, ask).await;
        assert_eq!(codes(&r), vec![("transfer_mechanism_missing".to_owned(), "us_dsp".to_owned())]);
        assert_eq!(r.body["regimes"][0]["counters"][0]["with_share"], 1_001);
        // An email alone is no covered identifier; with a cookie id it is one (202.212), bulk
        // above 100,000.
        let r = approved(&app, law.ask(&["user.contact.email"], "SG", "US", 150_000, "us")).await;
        assert_eq!(r.body["regimes"], json!([]));
        let r = denied(&app, law.ask(&["user.contact.email", "user.device.cookie_id"], "SG", "US", 100_001, "us")).await;
        assert_eq!(r.body["regimes"][0]["bulk"]["covered_identifier"], true, "{}", r.text);
        assert_eq!(r.body["reasons"].as_array().unwrap().len(), 2, "both identifiers: {}", r.text);
        // Government-related data is restricted at any volume (202.222).
        let mut gov = law.ask(&["user.contact.email"], "SG", "US", 1, "us");
        gov["us_government_related"] = json!(true);
        let r = denied(&app, gov).await;
        assert_eq!(codes(&r), vec![("transfer_mechanism_missing".to_owned(), "us_dsp".to_owned())]);
    }
}
