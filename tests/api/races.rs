//! Concurrency: lost updates, idempotency under contention, many writers.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, on_each_backend};

on_each_backend! {
    async fn a_thousand_lost_update_races_each_have_exactly_one_winner(app: TestApp) {
        let party = app.party(json!({})).await;
        let path = format!("/v1/parties/{}", party["id"].as_str().unwrap());
        let token = app.alice();
        for round in 0..1000 {
            let etag = app.get(&path, &token).await.etag();
            let bodies: Vec<_> = (0..2)
                .map(|i| json!({"legal_name": format!("Round {round} racer {i}")}))
                .collect();
            let racers = bodies.iter().map(|b| app.patch_if(&path, &token, b, &etag));
            let results = join_all(racers).await;
            let won = results.iter().filter(|r| r.status == 200).count();
            let lost = results.iter().filter(|r| r.status == 412).count();
            assert_eq!((won, lost), (1, 1), "[{}] race {round}", app.backend);
        }
        let v = app.get("/v1/audit/verify", &app.auditor()).await;
        assert_eq!(v.body["ok"], true);
        let final_party = app.get(&path, &token).await;
        assert_eq!(final_party.body["version"], 1001, "one version per winner");
    }
}

on_each_backend! {
    async fn one_idempotency_key_sent_a_hundred_times_at_once_has_one_effect(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.party(json!({})).await;
        let body = json!({"party_id": party["id"], "purpose": "marketing.communications", "categories": ["system"],
            "destination_country": "US", "subject_country": "US", "subject_count": 1});
        let head = app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"]
            .as_i64()
            .unwrap();
        let token = app.token("service", "newsletter");
        let sends = (0..100).map(|_| {
            app.send(
                actix_web::test::TestRequest::post()
                    .uri("/v1/sharing-requests")
                    .insert_header(("Authorization", format!("Bearer {token}")))
                    .insert_header(("Content-Type", "application/json"))
                    .insert_header(("Idempotency-Key", "same-key"))
                    .set_payload(body.to_string()),
            )
        });
        let results = join_all(sends).await;
        assert_eq!(
            results.iter().filter(|r| r.status == 201).count(),
            1,
            "[{}]",
            app.backend
        );
        assert_eq!(results.iter().filter(|r| r.status == 200).count(), 99);
        assert!(
            results.iter().all(|r| r.text == results[0].text),
            "every answer is the same decision"
        );
        let after = app.get("/v1/audit/verify", &app.auditor()).await.body["head_seq"]
            .as_i64()
            .unwrap();
        assert_eq!(after, head + 1, "one ledger entry");
    }
}

on_each_backend! {
    async fn thirty_two_concurrent_writers_all_succeed_without_lock_errors(app: TestApp) {
        let token = app.alice();
        let bodies: Vec<_> = (0..32)
            .map(|i| {
                let mut p = crate::helpers::valid_party();
                p["legal_name"] = json!(format!("Writer {i}"));
                p
            })
            .collect();
        let results = join_all(bodies.iter().map(|b| app.post("/v1/parties", &token, b))).await;
        for r in &results {
            assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
        }
        let list = app.get("/v1/parties?limit=200", &app.auditor()).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 32);
        assert_eq!(
            app.get("/v1/audit/verify", &app.auditor()).await.body["ok"],
            true
        );
    }
}

on_each_backend! {
    async fn no_decision_sent_after_an_answered_revoke_relies_on_the_grant(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        let party = app.party(json!({})).await;
        let grant = app
            .grant(&party, json!({"service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"]}))
            .await;
        app.set_status(&party, "trusted").await;
        let body = json!({"party_id": party["id"], "purpose": "marketing.communications.email",
            "categories": ["user.contact.email"], "destination_country": "US", "subject_country": "US", "subject_count": 1});
        let revoked_at: std::cell::Cell<Option<std::time::Instant>> = std::cell::Cell::new(None);
        // The revoke waits for a first approval, so the load always overlaps it, however slowly
        // the machine runs the decisions.
        let approved_once = std::cell::Cell::new(false);
        // Each client keeps deciding until five of its requests went out after the revoke was answered.
        let load = (0..8).map(|_| async {
            let mut seen = Vec::new();
            let mut after = 0;
            while after < 5 {
                let sent = std::time::Instant::now();
                let r = app.share("newsletter", body.clone()).await;
                assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
                let approved = r.body["outcome"] == "approved";
                approved_once.set(approved_once.get() || approved);
                seen.push((sent, approved));
                if revoked_at.get().is_some_and(|cut| sent > cut) {
                    after += 1;
                }
                assert!(seen.len() < 5000, "the revoke was never answered");
            }
            seen
        });
        let revoke = async {
            while !approved_once.get() {
                actix_web::rt::task::yield_now().await;
            }
            for _ in 0..20 {
                actix_web::rt::task::yield_now().await;
            }
            let path = format!("/v1/grants/{}/revoke", grant["id"].as_str().unwrap());
            let r = app
                .post_if(&path, &app.bob(), &json!({"reason": "now"}), "\"2\"")
                .await;
            assert_eq!(r.status, 200);
            revoked_at.set(Some(std::time::Instant::now()));
        };
        let (decisions, _) = futures_util::future::join(join_all(load), revoke).await;
        let cut = revoked_at.get().expect("the revoke was answered");
        let after: Vec<bool> = decisions
            .iter()
            .flatten()
            .filter(|(sent, _)| *sent > cut)
            .map(|(_, a)| *a)
            .collect();
        let approvals_before = decisions
            .iter()
            .flatten()
            .filter(|(sent, a)| *sent < cut && *a)
            .count();
        assert!(
            approvals_before > 0,
            "[{}] the load overlapped the revoke",
            app.backend
        );
        assert!(
            !after.is_empty(),
            "[{}] decisions were sent after the revoke answered",
            app.backend
        );
        assert!(
            after.iter().all(|approved| !approved),
            "[{}] an approval after an answered revoke",
            app.backend
        );
    }
}
