//! `GET /v1/audit/checkpoint` with `Accept: text/plain`: the same tree head as a C2SP
//! `tlog-checkpoint` signed note (checked against Go's sumdb/note in `.ci/c2sp.sh`).

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::audit_trust::checkpoint;
use crate::helpers::{TestApp, on_each_backend};
use vendor_registry::ledger::note;

on_each_backend! {
    async fn the_checkpoint_comes_as_a_signed_note_under_the_logs_origin(app: TestApp) {
        let json = checkpoint(&app).await;
        let r = app
            .send(
                TestRequest::get()
                    .uri("/v1/audit/checkpoint")
                    .insert_header(("Authorization", format!("Bearer {}", app.auditor())))
                    .insert_header(("Accept", "text/plain")),
            )
            .await;
        assert_eq!(r.status, 200, "[{}] {}", app.backend, r.text);
        assert!(r.header("content-type").unwrap().starts_with("text/plain"));
        let keys = app.get("/v1/audit/public-key", "").await.body;
        let vkey = keys["keys"][0]["note_verifier"].as_str().unwrap().to_owned();
        let origin = vkey.split('+').next().unwrap().to_owned();
        let (text, lines) = note::split(&r.text).expect("a note: text, blank line, signatures");
        let body: Vec<&str> = text.lines().collect();
        assert_eq!(body[0], origin);
        assert_eq!(body[1], json.size.to_string(), "the same tree head as the JSON one");
        assert_eq!(hex::encode(STANDARD.decode(body[2]).unwrap()), json.root_hash);
        let raw = STANDARD.decode(keys["keys"][0]["public_key"].as_str().unwrap()).unwrap();
        let key = ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap();
        assert_eq!(lines.len(), 1);
        assert!(note::verify_line(text, lines[0], &origin, &key));
        assert_eq!(note::verifier_key(&origin, &key), vkey);
        // Asked for JSON, or for anything, the answer stays JSON.
        assert_eq!(app.get("/v1/audit/checkpoint", &app.auditor()).await.body["size"], json.size);
    }
}
