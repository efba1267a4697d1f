//! Signed checkpoints, proofs, export, offline verification, and every kind of rewrite.

use diesel::prelude::*;
use serde_json::{Value, json};
use vendor_registry::ledger::merkle::{self, Hash};
use vendor_registry::ledger::signing::Checkpoint;
use vendor_registry::ledger::{Row, chain};
use vendor_registry::schema::{ledger, ledger_head};

use crate::helpers::{TestApp, on_each_backend};

pub(crate) fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

pub(crate) async fn checkpoint(app: &TestApp) -> Checkpoint {
    let r = app.get("/v1/audit/checkpoint", &app.auditor()).await;
    assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
    serde_json::from_value(r.body).unwrap()
}

pub(crate) async fn some_changes(app: &TestApp, n: usize) {
    for i in 0..n {
        app.party(json!({"legal_name": format!("Vendor {i}")}))
            .await;
    }
}

pub(crate) async fn verify(app: &TestApp) -> Value {
    let r = app.get("/v1/audit/verify", &app.auditor()).await;
    assert_eq!(r.status, 200);
    r.body
}

on_each_backend! {
    async fn checkpoints_are_signed_by_the_published_key_and_issued_when_the_head_moves(app: TestApp) {
        let keys = app
            .request(
                actix_web::http::Method::GET,
                "/v1/audit/public-key",
                None,
                None,
                None,
            )
            .await;
        assert_eq!(keys.status, 200, "public, no token");
        let published = vendor_registry::ledger::offline::read_keys(&keys.text).unwrap();
        let first = checkpoint(&app).await;
        assert!(
            vendor_registry::ledger::signing::verify_checkpoint(&first, &published),
            "[{}]",
            app.backend
        );
        assert_eq!(first.key_id, keys.body["keys"][0]["key_id"]);
        assert_eq!(
            checkpoint(&app).await,
            first,
            "no new checkpoint while the head stands still"
        );
        some_changes(&app, 2).await;
        let second = checkpoint(&app).await;
        assert_eq!(second.size, first.size + 2);
        let listed = app.get("/v1/audit/checkpoints", &app.auditor()).await;
        let sizes: Vec<i64> = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["size"].as_i64().unwrap())
            .collect();
        assert_eq!(sizes, vec![first.size, second.size]);
        let v = verify(&app).await;
        assert_eq!(v["ok"], true);
        assert_eq!(v["checkpoints_checked"], 2);
        assert_eq!(
            app.get("/v1/audit/checkpoint", &app.alice()).await.status,
            403
        );
    }
}

on_each_backend! {
    async fn inclusion_and_consistency_proofs_verify_against_checkpoints(app: TestApp) {
        let old = checkpoint(&app).await;
        some_changes(&app, 3).await;
        let new = checkpoint(&app).await;
        for seq in [1, old.size, new.size] {
            let r = app
                .get(&format!("/v1/audit/proof/{seq}"), &app.auditor())
                .await;
            assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
            assert_eq!(r.body["tree_size"], new.size);
            assert_eq!(r.body["root_hash"], new.root_hash.as_str());
            assert_eq!(r.body["checkpoint"]["signature"], new.signature.as_str());
            let mut entry = r.body["entry"].clone();
            entry.as_object_mut().unwrap().remove("hash");
            let leaf = merkle::leaf_hash(vendor_registry::jcs::to_string(&entry).as_bytes());
            assert_eq!(
                hex::encode(leaf),
                r.body["leaf_hash"].as_str().unwrap(),
                "the leaf is the entry's JCS form"
            );
            let path: Vec<Hash> = r.body["audit_path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| h(p.as_str().unwrap()))
                .collect();
            assert!(merkle::verify_inclusion(
                (seq - 1) as u64,
                new.size as u64,
                &leaf,
                &path,
                &h(&new.root_hash)
            ));
        }
        let at_old = app
            .get(
                &format!("/v1/audit/proof/2?size={}", old.size),
                &app.auditor(),
            )
            .await;
        assert_eq!(at_old.body["root_hash"], old.root_hash.as_str());
        let c = app
            .get(
                &format!("/v1/audit/consistency?from={}&to={}", old.size, new.size),
                &app.auditor(),
            )
            .await;
        assert_eq!(c.status, 200);
        assert_eq!(c.body["from_root"], old.root_hash.as_str());
        assert_eq!(c.body["to_root"], new.root_hash.as_str());
        let proof: Vec<Hash> = c.body["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| h(p.as_str().unwrap()))
            .collect();
        assert!(merkle::verify_consistency(
            old.size as u64,
            new.size as u64,
            &proof,
            &h(&old.root_hash),
            &h(&new.root_hash)
        ));
        for bad in [
            format!("/v1/audit/proof/{}", new.size + 5),
            "/v1/audit/proof/0".to_owned(),
        ] {
            assert_eq!(app.get(&bad, &app.auditor()).await.status, 404, "{bad}");
        }
        assert_eq!(
            app.get(
                &format!("/v1/audit/proof/5?size={}", new.size + 9),
                &app.auditor()
            )
            .await
            .status,
            422
        );
        assert_eq!(
            app.get(
                &format!("/v1/audit/consistency?from=3&to={}", new.size + 9),
                &app.auditor()
            )
            .await
            .status,
            422
        );
        assert_eq!(
            app.get("/v1/audit/consistency?from=0&to=3", &app.auditor())
                .await
                .status,
            422
        );
        assert_eq!(
            app.get("/v1/audit/consistency?from=2", &app.auditor())
                .await
                .status,
            400
        );
    }
}

on_each_backend! {
    async fn a_service_proves_its_own_decisions_and_nothing_else(app: TestApp) {
        app.service("newsletter", &["marketing.communications"])
            .await;
        app.service("payroll", &["marketing.communications"]).await;
        let party = app.party(json!({})).await;
        let body = json!({"party_id": party["id"], "purpose": "marketing.communications", "categories": ["system"],
            "destination_country": "US", "subject_country": "US", "subject_count": 1});
        let d = app.share("newsletter", body).await;
        let seq = d.body["ledger_seq"].as_i64().unwrap();
        let own = app
            .get(
                &format!("/v1/audit/proof/{seq}"),
                &app.token("service", "newsletter"),
            )
            .await;
        assert_eq!(own.status, 200, "[{}] {}", app.backend, own.text);
        assert_eq!(
            own.body["entry"]["subject"],
            format!("sharing_request:{}", d.body["id"].as_str().unwrap())
        );
        assert_eq!(
            app.get(
                &format!("/v1/audit/proof/{seq}"),
                &app.token("service", "payroll")
            )
            .await
            .status,
            404
        );
        assert_eq!(
            app.get("/v1/audit/proof/1", &app.token("service", "newsletter"))
                .await
                .status,
            404
        );
    }
}

/// Rewrites the stored ledger below the triggers, as someone with database access could.
pub(crate) fn rewrite(app: &TestApp, tamper: impl FnOnce(&mut Vec<Row>)) {
    let mut conn = app.state.pool.get().unwrap();
    let disable = if app.backend == "postgres" {
        "ALTER TABLE ledger DISABLE TRIGGER USER"
    } else {
        "DROP TRIGGER IF EXISTS ledger_no_delete"
    };
    diesel::sql_query(disable).execute(&mut *conn).unwrap();
    let mut rows: Vec<Row> = ledger::table
        .order(ledger::seq.asc())
        .select(Row::as_select())
        .load(&mut *conn)
        .unwrap();
    tamper(&mut rows);
    diesel::delete(ledger::table).execute(&mut *conn).unwrap();
    for row in &rows {
        diesel::insert_into(ledger::table)
            .values(row)
            .execute(&mut *conn)
            .unwrap();
    }
    if let Some(last) = rows.last() {
        diesel::update(ledger_head::table)
            .set((
                ledger_head::seq.eq(last.seq),
                ledger_head::hash.eq(&last.hash),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
}

/// Re-hashes every entry from index `from` on, so the chain looks intact; with `leaves`, the
/// stored leaf hashes are recomputed too.
pub(crate) fn rechain(rows: &mut [Row], from: usize, leaves: bool) {
    for i in from..rows.len() {
        let prev = if i == 0 {
            vendor_registry::ledger::GENESIS_HASH.to_owned()
        } else {
            rows[i - 1].hash.clone()
        };
        let r = &rows[i];
        let actor: Value = serde_json::from_str(&r.actor).unwrap();
        let change: Value = serde_json::from_str(&r.change).unwrap();
        let sealed = chain::seal(
            r.seq,
            r.at.clone(),
            &actor,
            &r.action,
            &r.subject,
            &change,
            prev,
        );
        let old_leaf = rows[i].leaf_hash.clone();
        rows[i] = sealed;
        if !leaves {
            rows[i].leaf_hash = old_leaf;
        }
    }
}

async fn tampered(app: &TestApp, tamper: impl FnOnce(&mut Vec<Row>)) -> Value {
    rewrite(app, tamper);
    verify(app).await
}

fn forge_at(rows: &mut Vec<Row>, index: usize) {
    let forged = chain::seal(
        0,
        rows[index].at.clone(),
        &json!({"sub": "mallory"}),
        "party.created",
        "party:forged",
        &json!({"legal_name": "Forged Ltd"}),
        String::new(),
    );
    rows.insert(index, forged);
    for (i, r) in rows.iter_mut().enumerate() {
        r.seq = i as i64 + 1;
    }
    rechain(rows, index, true);
}

on_each_backend! {
    async fn every_kind_of_rewrite_is_caught_with_the_first_bad_seq(app: TestApp) {
        type Tamper = fn(&mut Vec<Row>);
        let cases: Vec<(&str, i64, Tamper)> = vec![
            ("changed payload", 20, |rows| {
                rows[19].change = r#"{"forged":true}"#.into()
            }),
            ("changed time", 21, |rows| {
                rows[20].at = "2001-01-01T00:00:00.000000Z".into()
            }),
            ("changed actor", 25, |rows| {
                rows[24].actor = r#"{"sub":"mallory"}"#.into()
            }),
            ("deleted entry", 22, |rows| {
                rows.remove(21);
            }),
            ("swapped entries", 30, |rows| {
                let (a, b) = (rows[29].clone(), rows[30].clone());
                rows[29] = Row { seq: a.seq, ..b };
                rows[30] = Row {
                    seq: a.seq + 1,
                    ..a
                };
            }),
            ("whole chain recomputed from one entry on", 40, |rows| {
                rows[39].change = r#"{"forged":true}"#.into();
                rechain(rows, 39, false);
            }),
        ];
        for (name, bad, tamper) in &cases {
            // Each case on a fresh log: one signed checkpoint of the whole of it.
            let app = app.fresh().await;
            let cp = checkpoint(&app).await;
            assert!(cp.size > 40, "the log is long enough for every case");
            let v = tampered(&app, tamper).await;
            assert_eq!(v["ok"], false, "[{}] {name}: {v}", app.backend);
            assert_eq!(v["first_bad_seq"], *bad, "[{}] {name}: {v}", app.backend);
        }
    }
}

on_each_backend! {
    async fn a_forged_insertion_and_a_fully_rehashed_chain_are_caught_by_the_checkpoints(app: TestApp) {
        let before = checkpoint(&app).await;
        some_changes(&app, 4).await;
        checkpoint(&app).await;
        // A forged entry right after the first checkpoint, every later hash and leaf recomputed.
        let index = before.size as usize;
        let v = tampered(&app, |rows| forge_at(rows, index)).await;
        assert_eq!(v["ok"], false, "[{}] {v}", app.backend);
        assert_eq!(v["first_bad_seq"], before.size + 1, "[{}] {v}", app.backend);
        // The same with the stored leaf hashes recomputed too, on a fresh log.
        let app = app.fresh().await;
        let before = checkpoint(&app).await;
        some_changes(&app, 4).await;
        checkpoint(&app).await;
        let index = before.size as usize + 1;
        let v = tampered(&app, |rows| {
            rows[index].change = r#"{"forged":true}"#.into();
            rechain(rows, index, true);
        })
        .await;
        assert_eq!(v["ok"], false, "[{}] {v}", app.backend);
        assert_eq!(
            v["first_bad_seq"],
            before.size + 1,
            "[{}] leaves recomputed too: bounded by the last good checkpoint: {v}",
            app.backend
        );
    }
}

on_each_backend! {
    async fn a_truncated_tail_is_caught_by_the_checkpoints(app: TestApp) {
        some_changes(&app, 3).await;
        let cp = checkpoint(&app).await;
        let v = tampered(&app, |rows| rows.truncate(rows.len() - 3)).await;
        assert_eq!(v["ok"], false, "[{}] {v}", app.backend);
        assert_eq!(v["first_bad_seq"], cp.size - 2, "[{}] {v}", app.backend);
    }
}

on_each_backend! {
    async fn the_export_verifies_offline_and_reveals_tampering(app: TestApp) {
        some_changes(&app, 2).await;
        let cp = checkpoint(&app).await;
        let keys = app
            .request(
                actix_web::http::Method::GET,
                "/v1/audit/public-key",
                None,
                None,
                None,
            )
            .await
            .text;
        let keys = vendor_registry::ledger::offline::read_keys(&keys).unwrap();
        let export = app.get("/v1/audit/export", &app.auditor()).await;
        assert_eq!(export.status, 200);
        assert_eq!(
            export.header("content-type").as_deref(),
            Some("application/x-ndjson")
        );
        let lines: Vec<&str> = export.text.lines().collect();
        assert_eq!(lines.len() as i64, cp.size, "[{}]", app.backend);
        let ok = vendor_registry::ledger::offline::verify(
            export.text.as_bytes(),
            vec![cp.clone()],
            &keys,
        )
        .unwrap();
        assert!(ok.ok, "{ok:?}");
        assert_eq!(ok.entries, cp.size);

        let truncated: String = lines[..lines.len() - 1]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        let r =
            vendor_registry::ledger::offline::verify(truncated.as_bytes(), vec![cp.clone()], &keys)
                .unwrap();
        assert_eq!(r.first_bad_seq, Some(cp.size));
        let edited = export.text.replacen("Vendor 1", "Vendor X", 1);
        let r =
            vendor_registry::ledger::offline::verify(edited.as_bytes(), vec![cp.clone()], &keys)
                .unwrap();
        assert!(!r.ok);
        let other = vendor_registry::ledger::signing::LedgerKeys::from_signing_key(
            ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
        );
        let r = vendor_registry::ledger::offline::verify(
            export.text.as_bytes(),
            vec![cp.clone()],
            other.trusted(),
        )
        .unwrap();
        assert!(!r.ok, "a checkpoint under an unknown key proves nothing");

        let part = app
            .get("/v1/audit/export?from_seq=5&to_seq=9", &app.auditor())
            .await;
        let seqs: Vec<i64> = part
            .text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["seq"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs, vec![5, 6, 7, 8, 9]);
        assert!(
            vendor_registry::ledger::offline::verify(part.text.as_bytes(), vec![], &keys)
                .unwrap()
                .ok
        );
        assert_eq!(
            app.get("/v1/audit/export?from_seq=0", &app.auditor())
                .await
                .status,
            422
        );
        assert_eq!(app.get("/v1/audit/export", &app.alice()).await.status, 403);
    }
}

#[actix_web::test]
async fn the_command_line_verifies_an_export() {
    let app = TestApp::sqlite().await;
    let cp = app.get("/v1/audit/checkpoint", &app.auditor()).await.text;
    let keys = app
        .request(
            actix_web::http::Method::GET,
            "/v1/audit/public-key",
            None,
            None,
            None,
        )
        .await
        .text;
    let export = app.get("/v1/audit/export", &app.auditor()).await.text;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (cp, keys, good, bad) = (
        write("cp.json", &cp),
        write("keys.json", &keys),
        write("good.jsonl", &export),
        write(
            "bad.jsonl",
            &export.replacen("\"system\"", "\"mallory\"", 1),
        ),
    );
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
            .args(["audit", "verify", "--file"])
            .arg(file)
            .arg("--public-key")
            .arg(&keys)
            .arg("--checkpoints")
            .arg(&cp)
            .output()
            .unwrap()
    };
    let ok = run(&good);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let tampered = run(&bad);
    assert_eq!(tampered.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&tampered.stdout).unwrap();
    assert_eq!(report["first_bad_seq"], 1);
    // A partial export chains on its own, but the checkpoints asked for cannot apply to it.
    let tail: String = export.lines().skip(5).map(|l| format!("{l}\n")).collect();
    let partial = run(&write("partial.jsonl", &tail));
    assert_eq!(partial.status.code(), Some(2), "not a pass");
    assert!(String::from_utf8_lossy(&partial.stderr).contains("none applied"));
    // One page of several is refused, not read as the whole list.
    let page = app
        .get("/v1/audit/checkpoints?limit=1", &app.auditor())
        .await;
    let mut paged = page.body.clone();
    paged["next_cursor"] = Value::String("YzE6MQ".into());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args(["audit", "verify", "--file"])
        .arg(&good)
        .arg("--public-key")
        .arg(&keys)
        .arg("--checkpoints")
        .arg(write("page.json", &paged.to_string()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("next_cursor"));
}
