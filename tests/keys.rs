//! The ledger signing key: a setting takes a path or the PEM itself and never echoes it, and a
//! generated key is PKCS#8 v1, which OpenSSL reads.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vendor_registry_test_support::{call, free_port};

const MARKER: &str = "MC4CAQAwBQYDK2VwBCIEIHZlbmRvci1yZWdpc3RyeS1zZWNyZXQtbWFya2VyISE";

fn serve(dir: &std::path::Path, ledger_key: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{}", free_port()),
            "--data-dir",
        ])
        .arg(dir)
        .env("VENDOR_REGISTRY_LEDGER_KEY", ledger_key)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_pem_in_the_key_setting_that_does_not_parse_is_refused_without_printing_it() {
    let dir = tempfile::tempdir().unwrap();
    // A PKCS#8 armour around bytes that are not an Ed25519 key.
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{MARKER}\n-----END PRIVATE KEY-----\n");
    let out = serve(dir.path(), &pem).wait_with_output().unwrap();
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("VENDOR_REGISTRY_LEDGER_KEY"), "{text}");
    assert!(!text.contains(MARKER), "the key is never echoed: {text}");
    let missing = serve(dir.path(), "/no/such/dir-with-a-secret-name/key.pem")
        .wait_with_output()
        .unwrap();
    let text = String::from_utf8_lossy(&missing.stderr).into_owned();
    assert!(!missing.status.success());
    assert!(!text.contains("secret-name"), "{text}");
}

#[test]
fn the_key_setting_takes_the_pem_itself() {
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let pem = vendor_registry::ledger::signing::pkcs8_v1_pem(&key);
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("VENDOR_REGISTRY_LEDGER_KEY", &pem)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut keys = None;
    while Instant::now() < deadline && keys.is_none() {
        keys = call(port, "GET", "/v1/audit/public-key", "", None, &[])
            .filter(|(s, _)| *s == 200)
            .map(|(_, b)| b);
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let keys = keys.expect("the node started with the PEM in the setting");
    assert_eq!(
        keys["keys"][0]["key_id"],
        vendor_registry::ledger::signing::key_id(&key.verifying_key())
    );
    assert!(
        !dir.path().join("ledger-signing-key.pem").exists(),
        "no key is generated when one is configured"
    );
}

#[test]
fn a_generated_signing_key_is_pkcs8_v1_that_openssl_reads() {
    let dir = tempfile::tempdir().unwrap();
    let keys = vendor_registry::ledger::signing::LedgerKeys::load(None, dir.path(), &[]).unwrap();
    let path = dir.path().join("ledger-signing-key.pem");
    let out = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&path)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let published = &keys.public_keys().keys[0];
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        published.public_key_pem.trim(),
        "OpenSSL derives the same public key"
    );
    let again = vendor_registry::ledger::signing::LedgerKeys::load(None, dir.path(), &[]).unwrap();
    assert_eq!(again.key_id(), keys.key_id(), "the file is read back");
}

/// `token` outside the server's data directory used to make a secret of its own, whose tokens
/// the server then refused with a bare 401 (issue: "Traps"). Now only `serve` creates it.
#[test]
fn token_never_creates_a_secret_and_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let token = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_vendor-registry"))
            .args(["token", "--role", "admin", "--sub", "root", "--data-dir"])
            .arg(dir)
            .env_remove("VENDOR_REGISTRY_JWT_SECRET")
            .env_remove("VENDOR_REGISTRY_JWT_PUBLIC_KEY")
            .output()
            .unwrap()
    };
    let out = token(dir.path());
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let expected = dir.path().join("jwt-secret");
    assert!(text.contains(&expected.display().to_string()), "{text}");
    assert!(text.contains("serve"), "{text}");
    assert!(!expected.exists(), "no secret was made");
    // Once the server made it, the same command mints a token.
    std::fs::write(&expected, "0123456789abcdef0123456789abcdef").unwrap();
    let out = token(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).split('.').count(), 3);
}
