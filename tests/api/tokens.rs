//! Crafted bad tokens: each answered 401, never 2xx or 5xx, under every key type.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use vendor_registry::keyfile::KeySource;

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims() -> Value {
    json!({"sub": "alice", "roles": ["procurement"], "exp": now() + 600, "iat": now(),
        "iss": "vendor-registry", "aud": "vendor-registry"})
}

fn with(mut c: Value, key: &str, v: Value) -> Value {
    c[key] = v;
    c
}

fn without(mut c: Value, key: &str) -> Value {
    c.as_object_mut().unwrap().remove(key);
    c
}

/// A token with a hand-made header and no real signature.
fn raw(header: &Value, claims: &Value, sig: &str) -> String {
    format!(
        "{}.{}.{sig}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

fn openssl(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let key = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let ok = std::process::Command::new("openssl")
        .args(["genpkey", "-out"])
        .arg(&key)
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl genpkey {args:?}");
    let ok = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    key
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.get("/v1/parties", token).await.status.as_u16()
}

#[actix_web::test]
async fn thirty_crafted_tokens_are_each_refused_with_401() {
    let app = TestApp::sqlite().await;
    let secret = std::fs::read(app.dir.path().join("jwt-secret")).unwrap();
    let hs = |c: &Value| encode(&Header::default(), c, &EncodingKey::from_secret(&secret)).unwrap();
    let good = hs(&claims());
    let parts: Vec<&str> = good.split('.').collect();
    let other = hs(&with(claims(), "sub", json!("mallory")));
    let mut cases: Vec<(String, String)> = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        cases.push((
            format!("alg {alg}"),
            raw(&json!({"alg": alg, "typ": "JWT"}), &claims(), ""),
        ));
    }
    cases.push((
        "stripped signature".into(),
        format!("{}.{}.", parts[0], parts[1]),
    ));
    cases.push((
        "another token's signature".into(),
        format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            other.split('.').nth(2).unwrap()
        ),
    ));
    cases.push((
        "wrong secret".into(),
        encode(
            &Header::default(),
            &claims(),
            &EncodingKey::from_secret(&[1u8; 32]),
        )
        .unwrap(),
    ));
    cases.push((
        "HS384 with the right secret".into(),
        encode(
            &Header::new(Algorithm::HS384),
            &claims(),
            &EncodingKey::from_secret(&secret),
        )
        .unwrap(),
    ));
    cases.push((
        "expired beyond the leeway".into(),
        hs(&with(claims(), "exp", json!(now() - 31))),
    ));
    cases.push((
        "not yet valid beyond the leeway".into(),
        hs(&with(claims(), "nbf", json!(now() + 31))),
    ));
    cases.push((
        "issued in the future".into(),
        hs(&with(claims(), "iat", json!(now() + 60))),
    ));
    for k in ["exp", "nbf", "iat"] {
        cases.push((
            format!("{k} as a string"),
            hs(&with(claims(), k, json!((now() + 5).to_string()))),
        ));
    }
    for k in ["sub", "roles", "exp", "iat", "iss", "aud"] {
        cases.push((format!("missing {k}"), hs(&without(claims(), k))));
    }
    cases.push((
        "wrong issuer".into(),
        hs(&with(claims(), "iss", json!("evil"))),
    ));
    cases.push((
        "wrong audience".into(),
        hs(&with(claims(), "aud", json!("other"))),
    ));
    cases.push((
        "audience list without ours".into(),
        hs(&with(claims(), "aud", json!(["a", "b"]))),
    ));
    cases.push((
        "roles as a string".into(),
        hs(&with(claims(), "roles", json!("admin"))),
    ));
    cases.push(("empty sub".into(), hs(&with(claims(), "sub", json!("")))));
    for (name, header) in [
        ("unknown kid", json!({"alg": "HS256", "kid": "k1"})),
        (
            "jku header",
            json!({"alg": "HS256", "jku": "http://127.0.0.1:1/keys"}),
        ),
        (
            "x5u header",
            json!({"alg": "HS256", "x5u": "http://127.0.0.1:1/cert"}),
        ),
        (
            "jwk header",
            json!({"alg": "HS256", "jwk": {"kty": "oct", "k": B64.encode([1u8; 32])}}),
        ),
        ("x5c header", json!({"alg": "HS256", "x5c": ["MIIB"]})),
    ] {
        let mut h: Header = serde_json::from_value(header).unwrap();
        h.typ = Some("JWT".into());
        cases.push((
            name.into(),
            encode(&h, &claims(), &EncodingKey::from_secret(&secret)).unwrap(),
        ));
    }
    cases.push(("two segments".into(), format!("{}.{}", parts[0], parts[1])));
    cases.push(("four segments".into(), format!("{good}.x")));
    cases.push((
        "header not base64".into(),
        format!("%%%.{}.{}", parts[1], parts[2]),
    ));
    cases.push((
        "header not JSON".into(),
        format!("{}.{}.{}", B64.encode("nope"), parts[1], parts[2]),
    ));
    cases.push((
        "payload not JSON".into(),
        format!("{}.{}.{}", parts[0], B64.encode("nope"), parts[2]),
    ));
    cases.push((
        "a 64 KiB token".into(),
        format!("{}.{}.{}", parts[0], "A".repeat(64 * 1024), parts[2]),
    ));
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for (name, token) in &cases {
        let r = app.get("/v1/parties", token).await;
        assert_eq!(r.status, 401, "{name}: {}", r.text);
        assert!(
            r.is_problem() && r.header("www-authenticate").is_some(),
            "{name}"
        );
    }
    assert_eq!(status(&app, &good).await, 200, "the control token passes");
}

#[actix_web::test]
async fn the_leeway_is_thirty_seconds_on_both_sides() {
    let app = TestApp::sqlite().await;
    let secret = std::fs::read(app.dir.path().join("jwt-secret")).unwrap();
    let hs = |c: &Value| encode(&Header::default(), c, &EncodingKey::from_secret(&secret)).unwrap();
    assert_eq!(
        status(&app, &hs(&with(claims(), "exp", json!(now() - 25)))).await,
        200
    );
    assert_eq!(
        status(&app, &hs(&with(claims(), "exp", json!(now() - 35)))).await,
        401
    );
    assert_eq!(
        status(&app, &hs(&with(claims(), "nbf", json!(now() + 25)))).await,
        200
    );
    assert_eq!(
        status(&app, &hs(&with(claims(), "nbf", json!(now() + 35)))).await,
        401
    );
    assert_eq!(
        status(&app, &hs(&with(claims(), "iat", json!(now() + 25)))).await,
        200
    );
}

#[actix_web::test]
async fn asymmetric_keys_accept_their_own_tokens_and_refuse_hs256_signed_with_the_public_key() {
    let keys = tempfile::tempdir().unwrap();
    for (name, args, alg) in [
        (
            "rsa",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
            Algorithm::RS256,
        ),
        (
            "ec",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
            Algorithm::ES256,
        ),
        ("ed", &["-algorithm", "ed25519"][..], Algorithm::EdDSA),
    ] {
        let private = openssl(keys.path(), name, args);
        let public = keys.path().join(format!("{name}.pub.pem"));
        // A key setting takes a path (the public key here) or the PEM itself (the private one).
        let private_pem = std::fs::read_to_string(&private).unwrap();
        let app = TestApp::spawn_configured(tempfile::tempdir().unwrap(), None, None, |c| {
            c.jwt.public_key = Some(KeySource::Path(public.clone()));
            c.jwt.private_key = Some(KeySource::from_setting(&private_pem));
        })
        .await;
        let pem = std::fs::read(&private).unwrap();
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
            Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
            _ => EncodingKey::from_ed_pem(&pem),
        }
        .unwrap();
        assert_eq!(
            status(&app, &encode(&Header::new(alg), &claims(), &key).unwrap()).await,
            200,
            "{name}"
        );
        assert_eq!(
            status(&app, &app.alice()).await,
            200,
            "{name}: minted with the private key"
        );
        let public_pem = std::fs::read(&public).unwrap();
        let confused = encode(
            &Header::default(),
            &claims(),
            &EncodingKey::from_secret(&public_pem),
        )
        .unwrap();
        assert_eq!(
            status(&app, &confused).await,
            401,
            "{name}: HS256 signed with the public key"
        );
        let stranger = openssl(keys.path(), &format!("{name}-2"), args);
        let pem = std::fs::read(&stranger).unwrap();
        let other = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
            Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
            _ => EncodingKey::from_ed_pem(&pem),
        }
        .unwrap();
        assert_eq!(
            status(&app, &encode(&Header::new(alg), &claims(), &other).unwrap()).await,
            401,
            "{name}: another key"
        );
        assert!(
            !app.dir.path().join("jwt-secret").exists(),
            "{name}: no secret is generated"
        );
    }
}

#[actix_web::test]
async fn minting_with_only_a_public_key_says_what_is_missing() {
    let keys = tempfile::tempdir().unwrap();
    openssl(keys.path(), "ed", &["-algorithm", "ed25519"]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args(["token", "--role", "admin", "--sub", "x", "--data-dir"])
        .arg(keys.path())
        .env(
            "VENDOR_REGISTRY_JWT_PUBLIC_KEY",
            keys.path().join("ed.pub.pem"),
        )
        .env_remove("VENDOR_REGISTRY_JWT_PRIVATE_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("VENDOR_REGISTRY_JWT_PRIVATE_KEY"));
}

/// #18: a verified token's principal is kept until its expiry, and only until then — the same
/// rule, at the same second, as a token verified afresh (`exp` plus the 30 s leeway).
#[actix_web::test]
async fn a_remembered_token_expires_when_a_fresh_one_would() {
    let app = TestApp::sqlite().await;
    let secret = std::fs::read(app.dir.path().join("jwt-secret")).unwrap();
    let exp = now() + 600;
    let token = encode(
        &Header::default(),
        &with(claims(), "exp", json!(exp)),
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    let keys = &app.state.keys;
    let first = keys.verify_at(&token, now()).unwrap();
    assert_eq!(first.sub, "alice");
    assert_eq!(keys.verify_at(&token, exp + 30).unwrap().sub, "alice");
    assert_eq!(
        keys.verify_at(&token, exp + 31).unwrap_err(),
        "the token has expired"
    );
    assert_eq!(status(&app, &token).await, 200, "still valid now");
    // A token seen before that has expired is refused, and an altered one is checked afresh.
    let stale = encode(
        &Header::default(),
        &with(claims(), "exp", json!(now() - 25)),
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert_eq!(status(&app, &stale).await, 200, "inside the leeway");
    assert_eq!(
        keys.verify_at(&stale, now() + 10).unwrap_err(),
        "the token has expired"
    );
    // A signature character changed in the middle (all six of its bits count).
    let at = token.len() - 10;
    let swapped = if &token[at..at + 1] == "A" { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
    assert_eq!(status(&app, &forged).await, 401);
}
