//! Incidents (docs/DISCLOSURES.md "Incidents"): the suspension in the same transaction, the
//! exposure from recorded decisions only, the duties and their clocks, the lifecycle.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::disclosures::{ago, counsel, urlencoding};
use crate::helpers::{Resp, TestApp, on_each_backend};

/// Entities in DE and the US, service `svc` for both, a trusted party in DE granted e-mail and
/// names everywhere.
async fn world(app: &TestApp) -> Value {
    app.entity("acme-de", "DE").await;
    app.entity("acme-us", "US").await;
    app.service_for("svc", &["marketing"], &["acme-de", "acme-us"])
        .await;
    let party = app
        .party(json!({"country": "DE", "data_locations": ["DE"]}))
        .await;
    let party = app.set_status(&party, "trusted").await;
    app.grant(
        &party,
        json!({"service": "svc", "categories": ["user.contact.email", "user.name"],
        "allowed_regions": ["US", "OTHER"]}),
    )
    .await;
    party
}

fn ask(party: &Value, category: &str, subject: &str, count: i64, exporter: &str) -> Value {
    json!({"party_id": party["id"], "purpose": "marketing.communications.email", "categories": [category],
        "destination_country": "DE", "subject_country": subject, "subject_count": count, "exporter": exporter})
}

async fn share(app: &TestApp, body: Value, outcome: &str) -> Resp {
    let r = app.share("svc", body).await;
    assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
    assert_eq!(r.body["outcome"], outcome, "[{}] {}", app.backend, r.text);
    r
}

async fn open(app: &TestApp, body: Value) -> Resp {
    app.post("/v1/incidents", &counsel(app), &body).await
}

fn incident(party: &Value, aware: &str, severity: &str) -> Value {
    json!({"party_id": party["id"], "title": "Mail vendor breached", "became_aware_at": aware,
        "severity": severity, "categories": ["user.contact.email"]})
}

/// `(regime, exporter, addressee) → overdue` of each duty.
fn duties(i: &Value) -> BTreeMap<(String, String, String), bool> {
    i["duties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                (
                    d["regime"].as_str().unwrap().to_owned(),
                    d["exporter"].as_str().unwrap_or("").to_owned(),
                    d["addressee"].as_str().unwrap().to_owned(),
                ),
                d["overdue"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn key(regime: &str, exporter: &str, addressee: &str) -> (String, String, String) {
    (regime.into(), exporter.into(), addressee.into())
}

/// `(service, category, subject_country, exporter) → (decisions, Σ subject_count, seqs)`.
type Groups = BTreeMap<(String, String, String, String), (i64, i64, Vec<i64>)>;

/// What a filter over the ledger's recorded decisions finds for `party` in `[from, until)`:
/// `(service, category, subject_country, exporter) → (decisions, Σ subject_count, seqs)`.
async fn from_ledger(app: &TestApp, party: &str, from: Option<&str>, until: &str) -> Groups {
    let mut out = Groups::new();
    let mut after = 0;
    loop {
        let page = app
            .get(
                &format!("/v1/audit/events?action=decision.recorded&after_seq={after}&limit=200"),
                &app.auditor(),
            )
            .await;
        let items = page.body["items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        for e in &items {
            after = e["seq"].as_i64().unwrap();
            let c = &e["change"];
            let at = c["decided_at"].as_str().unwrap();
            if c["outcome"] != "approved"
                || c["party_id"] != party
                || at >= until
                || from.is_some_and(|f| at < f)
            {
                continue;
            }
            for category in c["categories"].as_array().unwrap() {
                let g = out
                    .entry((
                        c["service"].as_str().unwrap().to_owned(),
                        category.as_str().unwrap().to_owned(),
                        c["subject_country"].as_str().unwrap().to_owned(),
                        c["exporter"].as_str().unwrap().to_owned(),
                    ))
                    .or_default();
                g.0 += 1;
                g.1 += c["subject_count"].as_i64().unwrap();
                g.2.push(after);
            }
        }
    }
    out
}

fn groups(exposure: &Value) -> Groups {
    exposure["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                (
                    g["service"].as_str().unwrap().to_owned(),
                    g["category"].as_str().unwrap().to_owned(),
                    g["subject_country"].as_str().unwrap().to_owned(),
                    g["exporter"].as_str().unwrap().to_owned(),
                ),
                (
                    g["decisions"].as_i64().unwrap(),
                    g["subject_count"].as_i64().unwrap(),
                    g["ledger_seqs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_i64().unwrap())
                        .collect(),
                ),
            )
        })
        .collect()
}

on_each_backend! {
    async fn an_incident_suspends_the_party_and_its_exposure_is_what_the_ledger_recorded(app: TestApp) {
        let party = world(&app).await;
        let pid = party["id"].as_str().unwrap().to_owned();
        share(&app, ask(&party, "user.contact.email", "DE", 100, "acme-de"), "approved").await;
        let second = share(&app, ask(&party, "user.contact.email", "DE", 50, "acme-de"), "approved").await;
        share(&app, ask(&party, "user.name", "US", 10, "acme-us"), "approved").await;
        share(&app, ask(&party, "user.financial", "US", 10, "acme-us"), "denied").await;
        let other = app.party(json!({"country": "DE", "data_locations": ["DE"]})).await;
        let other = app.set_status(&other, "trusted").await;
        app.grant(&other, json!({"service": "svc", "categories": ["user.name"], "allowed_regions": ["OTHER"]})).await;
        share(&app, ask(&other, "user.name", "DE", 7, "acme-de"), "approved").await;

        // Aware 72 hours and a minute ago: the GDPR Art. 33 clock has run out.
        let r = open(&app, incident(&party, &ago(72 * 60 + 1), "medium")).await;
        assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["suspension"], json!({"done": true, "reason": format!("incident {id}")}));
        assert_eq!(duties(&r.body), BTreeMap::from([
            (key("gdpr", "acme-de", "supervisory_authority"), true),
            (key("policy", "", "subjects"), false),
        ]));
        assert_eq!(r.body["overdue_duties"], 1);

        // The very next decision is denied, on this node and on another one.
        let denied = share(&app, ask(&party, "user.contact.email", "DE", 1, "acme-de"), "denied").await;
        assert_eq!(denied.body["reasons"][0]["code"], "party_not_trusted");
        let node = app.node().await;
        let r2 = node.share("svc", ask(&party, "user.name", "US", 1, "acme-us")).await;
        assert_eq!(r2.body["reasons"][0]["code"], "party_not_trusted", "{}", r2.text);
        let p = app.get(&format!("/v1/parties/{pid}"), &app.alice()).await;
        assert_eq!(p.body["status"], "suspended");
        assert_eq!(p.body["status_reason"], format!("incident {id}"));
        assert_eq!(p.body["open_incidents"], json!([id]));
        let events = app.get(&format!("/v1/audit/events?subject=party:{pid}"), &app.auditor()).await;
        let last = events.body["items"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "party.status_changed");
        assert_eq!(last["actor"]["sub"], "counsel");

        // Exposure: row for row what a filter over the recorded decisions finds.
        let e = app.get(&format!("/v1/incidents/{id}/exposure"), &app.auditor()).await;
        assert_eq!(e.status, 200, "{}", e.text);
        let until = e.body["until"].as_str().unwrap().to_owned();
        let expected = from_ledger(&app, &pid, None, &until).await;
        assert_eq!(groups(&e.body), expected);
        assert_eq!(expected.len(), 2);
        assert_eq!(expected[&("svc".into(), "user.contact.email".into(), "DE".into(), "acme-de".into())].1, 150);
        assert_eq!(e.body["decisions"], 3);
        let g = &e.body["groups"][0];
        assert_eq!(g["grants"].as_array().unwrap().len(), 1, "{}", e.text);
        let csv = app.get(&format!("/v1/incidents/{id}/exposure?format=csv"), &counsel(&app)).await;
        assert_eq!(csv.text.lines().count(), 3, "{}", csv.text);
        assert!(csv.text.contains("svc,user.contact.email,DE,OTHER,acme-de,2,150,"), "{}", csv.text);
        // Procurement reads the incident, not its exposure.
        assert_eq!(app.get(&format!("/v1/incidents/{id}"), &app.alice()).await.status, 200);
        assert_eq!(app.get(&format!("/v1/incidents/{id}/exposure"), &app.alice()).await.status, 403);

        // A narrower window: from the second decision on, until before the third.
        let cur = app.get(&format!("/v1/incidents/{id}"), &counsel(&app)).await;
        let from = second.body["decided_at"].as_str().unwrap().to_owned();
        let r = app.patch_if(&format!("/v1/incidents/{id}"), &counsel(&app),
            &json!({"exposure_from": from, "occurred_until": ago(0), "severity": "high"}), &cur.etag()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // Higher severity owes the subjects too (GDPR Art. 34); nothing is removed.
        assert_eq!(duties(&r.body).len(), 3);
        assert!(duties(&r.body).contains_key(&key("gdpr", "acme-de", "subjects")));
        let e = app.get(&format!("/v1/incidents/{id}/exposure"), &counsel(&app)).await;
        let until = e.body["until"].as_str().unwrap().to_owned();
        assert_eq!(groups(&e.body), from_ledger(&app, &pid, Some(&from), &until).await);
        assert_eq!(e.body["decisions"], 2);
    }
}

async fn metric(app: &TestApp) -> i64 {
    let m = app.get("/metrics", "").await;
    m.text
        .lines()
        .find_map(|l| l.strip_prefix("vendor_registry_incident_duties_overdue "))
        .unwrap_or_else(|| panic!("no gauge: {}", m.text))
        .parse()
        .unwrap()
}

on_each_backend! {
    async fn a_duty_past_its_deadline_is_overdue_until_it_is_settled(app: TestApp) {
        let party = world(&app).await;
        share(&app, ask(&party, "user.contact.email", "DE", 10, "acme-de"), "approved").await;
        assert_eq!(metric(&app).await, 0);
        // 72 hours less two minutes: not yet due. Opened without suspending, with the reason.
        let mut body = incident(&party, &ago(72 * 60 - 2), "low");
        body["suspend"] = json!(false);
        body["no_suspend_reason"] = json!("Vendor isolated the system; suspension would stop payroll.");
        let fresh = open(&app, body).await;
        assert_eq!(fresh.status, 201, "{}", fresh.text);
        assert_eq!(fresh.body["suspension"]["done"], false);
        assert!(!duties(&fresh.body)[&key("gdpr", "acme-de", "supervisory_authority")]);
        let p = app.get(&format!("/v1/parties/{}", party["id"].as_str().unwrap()), &app.alice()).await;
        assert_eq!(p.body["status"], "trusted");
        // 72 hours and two minutes: overdue, on the incident and in /metrics.
        let late = open(&app, incident(&party, &ago(72 * 60 + 2), "low")).await;
        let id = late.body["id"].as_str().unwrap().to_owned();
        let sa = late.body["duties"].as_array().unwrap().iter()
            .find(|d| d["addressee"] == "supervisory_authority").unwrap().clone();
        assert_eq!(sa["overdue"], true);
        assert_eq!(metric(&app).await, 1);
        let list = app.get("/v1/incidents?status=open", &counsel(&app)).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
        // As it was when opened, judged at that instant; before it, it did not exist.
        let opened = app.get(&format!("/v1/audit/events?subject=incident:{id}"), &app.auditor()).await;
        let at = opened.body["items"][0]["at"].as_str().unwrap().to_owned();
        let then = app.get(&format!("/v1/incidents/{id}?as_of={}", urlencoding(&at)), &app.auditor()).await;
        assert_eq!(then.status, 200, "{}", then.text);
        assert_eq!(then.body["as_of_ledger_seq"], opened.body["items"][0]["seq"]);
        assert_eq!(then.body["overdue_duties"], 1);
        let before = app.get(&format!("/v1/incidents/{id}?as_of=2020-01-01T00:00:00Z"), &app.auditor()).await;
        assert_eq!(before.status, 404, "{}", before.text);

        let path = format!("/v1/incidents/{id}/duties/{}", sa["id"].as_str().unwrap());
        let missing = app.post(&path, &counsel(&app), &json!({"status": "done"})).await;
        assert_eq!(missing.error_fields(), ["at"]);
        let done = app.post(&path, &counsel(&app), &json!({"status": "done", "at": ago(1), "reference": "DPC-1"})).await;
        assert_eq!(done.status, 200, "{}", done.text);
        assert_eq!(done.body["overdue_duties"], 0);
        assert_eq!(metric(&app).await, 0);
        let again = app.post(&path, &counsel(&app), &json!({"status": "not_required", "reason": "x"})).await;
        assert_eq!(again.status, 409);
        let csv = app.get("/v1/exports/incidents.csv", &app.auditor()).await;
        assert_eq!(csv.status, 200);
        assert!(csv.text.contains(",gdpr,GDPR Art. 33,acme-de,supervisory_authority,"), "{}", csv.text);
        assert_eq!(csv.text.lines().count(), 1 + 4, "{}", csv.text);
    }
}

on_each_backend! {
    async fn an_incident_is_checked_and_moves_open_contained_closed_and_never_reopens(app: TestApp) {
        let party = world(&app).await;
        let mut body = incident(&party, &ago(5), "low");
        body["suspend"] = json!(false);
        assert_eq!(open(&app, body).await.error_fields(), ["no_suspend_reason"]);
        let mut ghost = incident(&party, &ago(5), "low");
        ghost["party_id"] = json!("0193a0c4-0000-7000-8000-000000000000");
        assert_eq!(open(&app, ghost).await.error_fields(), ["party_id"]);
        let mut bad = incident(&party, "yesterday", "low");
        bad["occurred_from"] = json!("then");
        assert_eq!(open(&app, bad).await.error_fields(), ["became_aware_at", "occurred_from"]);
        let mut future = incident(&party, &ago(-60), "low");
        future["categories"] = json!(["user.nope"]);
        assert_eq!(open(&app, future).await.status, 422);
        // A party that is not trusted is left as it is, and the incident says why.
        let pending = app.party(json!({})).await;
        let r = open(&app, incident(&pending, &ago(5), "low")).await;
        assert_eq!(r.body["suspension"]["done"], false);
        assert!(r.body["suspension"]["reason"].as_str().unwrap().contains("pending_review"), "{}", r.text);
        // No exposure, no duties.
        assert!(r.body["duties"].as_array().unwrap().is_empty());
        assert_eq!(app.post("/v1/incidents", &app.alice(), &incident(&party, &ago(5), "low")).await.status, 403);

        let r = open(&app, incident(&party, &ago(5), "low")).await;
        let id = r.body["id"].as_str().unwrap().to_owned();
        let status = |to: &'static str| {
            let app = &app;
            let id = id.clone();
            async move {
                let cur = app.get(&format!("/v1/incidents/{id}"), &counsel(app)).await;
                app.post_if(&format!("/v1/incidents/{id}/status"), &counsel(app), &json!({"status": to}), &cur.etag()).await
            }
        };
        assert_eq!(status("closed").await.status, 409);
        let contained = status("contained").await;
        assert!(contained.body["contained_at"].is_string());
        let closed = status("closed").await;
        assert_eq!(closed.status, 200, "{}", closed.text);
        assert!(closed.body["closed_at"].is_string());
        let reopen = status("open").await;
        assert_eq!(reopen.status, 409);
        assert!(reopen.text.contains("never reopens"), "{}", reopen.text);
        let patch = app.patch_if(&format!("/v1/incidents/{id}"), &counsel(&app), &json!({"severity": "high"}), &closed.etag()).await;
        assert_eq!(patch.status, 409);
        // Closing never reinstates the party; the party shows no open incident.
        let p = app.get(&format!("/v1/parties/{}", party["id"].as_str().unwrap()), &app.alice()).await;
        assert_eq!(p.body["status"], "suspended");
        assert!(p.body.get("open_incidents").is_none(), "{}", p.text);
        let events = app.get(&format!("/v1/audit/events?subject=incident:{id}"), &app.auditor()).await;
        let actions: Vec<&str> = events.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["incident.opened", "incident.status_changed", "incident.status_changed"]);
        let verify = app.get("/v1/audit/verify", &app.auditor()).await;
        assert_eq!(verify.body["ok"], true, "{}", verify.text);
    }
}
