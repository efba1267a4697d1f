//! Witnesses (ledger issue): a cosignature is checked before it is stored and is served with
//! its checkpoint; a history rewritten and re-signed with the operator's own key no longer
//! carries the witness's cosignature and is refused by the witness; newest checkpoints deleted
//! with a re-hash are caught by the tiles even without the key; tiles are served per tlog-tiles.

use diesel::prelude::*;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use vendor_registry::ledger::merkle::{self, Hash};
use vendor_registry::ledger::note::{self, Verifier};
use vendor_registry::ledger::signing::Checkpoint;
use vendor_registry::ledger::{Row, checkpoints, witness};
use vendor_registry::schema::{cosignatures, ledger};

use crate::audit_trust::{checkpoint, h, rechain, rewrite, some_changes, verify};
use crate::helpers::{TestApp, on_each_backend};

const NAME: &str = "auditor.example/w1";

fn witness_key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn vkey() -> String {
    note::witness_verifier_key(NAME, &witness_key().verifying_key())
}

fn now() -> u64 {
    vendor_registry::time::now().timestamp() as u64
}

fn cosignature(app: &TestApp, cp: &Checkpoint, at: u64) -> Value {
    let text = app.state.ledger_keys.note_text(cp).unwrap();
    let line = note::cosignature_line(&text, NAME, &witness_key(), at);
    json!({"checkpoint_size": cp.size, "witness_key": vkey(), "signature_line": line.trim_end()})
}

/// Turns the append-only triggers of the audit tables off, as an insider with database access
/// would.
fn disable_triggers(app: &TestApp) {
    let mut conn = app.state.pool.get().unwrap();
    let statements: &[&str] = if app.backend == "postgres" {
        &[
            "ALTER TABLE checkpoints DISABLE TRIGGER USER",
            "ALTER TABLE ledger_tiles DISABLE TRIGGER USER",
            "ALTER TABLE cosignatures DISABLE TRIGGER USER",
        ]
    } else {
        &[
            "DROP TRIGGER IF EXISTS checkpoints_no_delete",
            "DROP TRIGGER IF EXISTS ledger_tiles_no_delete",
            "DROP TRIGGER IF EXISTS ledger_tiles_full_no_update",
            "DROP TRIGGER IF EXISTS cosignatures_no_delete",
        ]
    };
    for s in statements {
        diesel::sql_query(*s).execute(&mut *conn).unwrap();
    }
}

fn sql(app: &TestApp, statement: &str) {
    let mut conn = app.state.pool.get().unwrap();
    diesel::sql_query(statement).execute(&mut *conn).unwrap();
}

on_each_backend! {
    async fn a_cosignature_is_checked_stored_and_served_with_its_checkpoint(app: TestApp) {
        let cp = checkpoint(&app).await;
        let auditor = app.auditor();
        let r = app.post("/v1/audit/cosignatures", &auditor, &cosignature(&app, &cp, now())).await;
        assert_eq!(r.status, 201, "[{}] {}", app.backend, r.text);
        assert_eq!(r.body["witness"], NAME);
        // The same witness again: the first cosignature stands.
        let again = app.post("/v1/audit/cosignatures", &auditor, &cosignature(&app, &cp, now() + 1)).await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(again.body["timestamp"], r.body["timestamp"]);

        let mut wrong_size = cosignature(&app, &cp, now());
        wrong_size["checkpoint_size"] = json!(cp.size - 1);
        let mut not_witness = cosignature(&app, &cp, now());
        not_witness["witness_key"] = json!(note::verifier_key(NAME, &witness_key().verifying_key()));
        let mut other_line = cosignature(&app, &cp, now());
        other_line["signature_line"] = json!("— auditor.example/w1 AAAA");
        for (body, field) in [
            (wrong_size, "checkpoint_size"),
            (not_witness, "witness_key"),
            (other_line, "signature_line"),
            (cosignature(&app, &cp, now() + 3600), "signature_line"),
        ] {
            let r = app.post("/v1/audit/cosignatures", &auditor, &body).await;
            assert_eq!(r.status, 422, "[{}] {field}: {}", app.backend, r.text);
            assert!(r.is_problem() && r.text.contains(field), "{}", r.text);
        }

        let served = checkpoint(&app).await;
        assert_eq!(served.size, cp.size, "nothing new to sign");
        assert_eq!(served.cosignatures.len(), 1);
        assert_eq!(served.cosignatures[0].witness_key, vkey());
        let n = app
            .send(
                actix_web::test::TestRequest::get()
                    .uri("/v1/audit/checkpoint")
                    .insert_header(("Authorization", format!("Bearer {auditor}")))
                    .insert_header(("Accept", "text/plain")),
            )
            .await;
        let (text, lines) = note::split(&n.text).unwrap();
        assert_eq!(lines.len(), 2, "the log's signature, then the witness's: {}", n.text);
        let w = Verifier::parse(&vkey()).unwrap();
        assert!(note::verify_cosignature(text, lines[1], &w).is_some());

        let v = verify(&app).await;
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["witnessed"]["witnessed_size"], cp.size);
        assert_eq!(v["witnessed"]["checkpoints"][0]["witnesses"], json!([NAME]));
    }
}

on_each_backend! {
    async fn a_history_resigned_with_the_operators_key_fails_against_a_witness_that_cosigned(app: TestApp) {
        let cp = checkpoint(&app).await;
        let auditor = app.auditor();
        let r = app.post("/v1/audit/cosignatures", &auditor, &cosignature(&app, &cp, now())).await;
        assert_eq!(r.status, 201, "{}", r.text);
        some_changes(&app, 3).await;
        // The insider rewrites entry 3 and every later hash and leaf, removes the checkpoints,
        // tiles and cosignatures, and signs everything again with the operator's key; the
        // witness's cosignature is put back on the new checkpoint of the size it cosigned.
        let saved: Vec<(i64, String, String, i64, String, String, String)> = {
            let mut conn = app.state.pool.get().unwrap();
            cosignatures::table.load(&mut *conn).unwrap()
        };
        rewrite(&app, |rows| {
            rows[2].change = r#"{"forged":true}"#.into();
            rechain(rows, 2, true);
        });
        disable_triggers(&app);
        sql(&app, "DELETE FROM cosignatures");
        sql(&app, "DELETE FROM checkpoints");
        sql(&app, "DELETE FROM ledger_tiles");
        let rows: Vec<Row> = {
            let mut conn = app.state.pool.get().unwrap();
            ledger::table.order(ledger::seq.asc()).select(Row::as_select()).load(&mut *conn).unwrap()
        };
        let leaves: Vec<Hash> = rows.iter().map(|r| h(&r.leaf_hash)).collect();
        let keys = app.state.ledger_keys.clone();
        let resigned = keys.sign(cp.size, &hex::encode(merkle::root(&leaves[..cp.size as usize])), cp.signed_at.clone());
        {
            let mut conn = app.state.pool.get().unwrap();
            vendor_registry::ledger::store::insert_checkpoint(&mut conn, &resigned).unwrap();
            for c in &saved {
                diesel::insert_into(cosignatures::table)
                    .values((
                        cosignatures::checkpoint_size.eq(c.0),
                        cosignatures::witness_key.eq(&c.1),
                        cosignatures::witness.eq(&c.2),
                        cosignatures::timestamp.eq(c.3),
                        cosignatures::signature_line.eq(&c.4),
                        cosignatures::received_at.eq(&c.5),
                        cosignatures::received_from.eq(&c.6),
                    ))
                    .execute(&mut *conn)
                    .unwrap();
            }
            vendor_registry::db::write_tx(&mut conn, |c| checkpoints::issue(c, &keys)).unwrap();
        }
        // Every signature by the operator's key is good, so only the witness tells.
        let v = verify(&app).await;
        assert_eq!(v["ok"], false, "[{}] {v}", app.backend);
        assert!(v["problems"].to_string().contains(NAME), "{v}");
        assert_eq!(v["witnessed"]["witnessed_size"], 0, "{v}");
        // Offline, with the witness trusted by the auditor, the same.
        let list = app.get("/v1/audit/checkpoints?limit=200", &auditor).await;
        let cps: Vec<Checkpoint> = serde_json::from_value(list.body["items"].clone()).unwrap();
        let trusted = [Verifier::parse(&vkey()).unwrap()];
        let (seen, problems) = witness::check(&cps, keys.origin(), Some(&trusted), 1);
        assert_eq!(seen.witnessed_size, 0);
        assert_eq!(problems.len(), 1, "{problems:?}");
        // And the witness, holding the root it cosigned, refuses the new tree: no consistency
        // proof leads from it.
        let head = checkpoint(&app).await;
        let c = app.get(&format!("/v1/audit/consistency?from={}&to={}", cp.size, head.size), &auditor).await;
        assert_eq!(c.status, 200, "{}", c.text);
        let proof: Vec<Hash> = c.body["proof"].as_array().unwrap().iter().map(|p| h(p.as_str().unwrap())).collect();
        let refused = witness::extends((cp.size, &h(&cp.root_hash)), (head.size, &h(&head.root_hash)), Some(&proof));
        assert!(refused.unwrap_err().contains("fork"));
        // On the honest history it would have cosigned: the same call with the signed roots.
        assert!(witness::extends((cp.size, &h(&cp.root_hash)), (cp.size, &h(&cp.root_hash)), None).is_ok());
    }
}

on_each_backend! {
    async fn deleted_newest_checkpoints_and_a_rehash_are_caught_by_the_tiles_without_the_key(app: TestApp) {
        let first = checkpoint(&app).await;
        some_changes(&app, 3).await;
        let second = checkpoint(&app).await;
        assert!(second.size > first.size + 2);
        let at = first.size as usize + 1;
        rewrite(&app, |rows| {
            rows[at].change = r#"{"forged":true}"#.into();
            rechain(rows, at, true);
        });
        disable_triggers(&app);
        sql(&app, &format!("DELETE FROM checkpoints WHERE size > {}", first.size));
        // The node would sign a fresh checkpoint over the rewrite; the tiles it stored when it
        // signed the deleted one say otherwise.
        let r = app.get("/v1/audit/checkpoint", &app.auditor()).await;
        assert_eq!(r.status, 503, "[{}] {}", app.backend, r.text);
        assert_eq!(r.body["type"], "urn:vendor-registry:problem:ledger-integrity");
        let list = app.get("/v1/audit/checkpoints?limit=200", &app.auditor()).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "nothing was signed");
    }
}

on_each_backend! {
    async fn tiles_are_served_by_their_c2sp_paths_and_rebuild_the_signed_root(app: TestApp) {
        let cp = checkpoint(&app).await;
        let auditor = app.auditor();
        let size = cp.size as usize;
        assert!(size < 256, "one partial tile at level 0");
        let path = format!("/v1/audit/tile/0/000.p/{size}");
        let r = app.get(&path, &auditor).await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
        let bytes = r.bytes.clone();
        assert_eq!(bytes.len(), 32 * size);
        let leaves: Vec<Hash> = bytes.chunks(32).map(|c| c.try_into().unwrap()).collect();
        assert_eq!(hex::encode(merkle::root(&leaves)), cp.root_hash);
        // A prefix is served too; a full tile or a wider one does not exist yet.
        assert_eq!(app.get("/v1/audit/tile/0/000.p/3", &auditor).await.bytes, bytes[..96].to_vec());
        for missing in ["/v1/audit/tile/0/000", "/v1/audit/tile/1/000.p/1", "/v1/audit/tile/0/x000/000", "/v1/audit/tile/entries/000"] {
            let r = app.get(missing, &auditor).await;
            assert_eq!(r.status, 404, "{missing}: {}", r.text);
            assert!(r.is_problem());
        }
        assert_eq!(app.get(&path, &app.alice()).await.status, 403);
    }
}
