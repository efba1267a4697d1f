//! C2SP `tlog-checkpoint` signed notes (the format of Certificate Transparency's static logs,
//! Go's checksum database and Sigsum), so a checkpoint can be checked with tools the project did
//! not write: `golang.org/x/mod/sumdb/note` among them. Pure: no I/O.
//!
//! A checkpoint note is three lines — the log's origin, the tree size in decimal, the RFC 6962
//! root hash in base64 — then a blank line and one signature line per signer:
//! `— <key name> <base64(key hash ‖ signature)>`, where the key hash is the first four bytes of
//! SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key) and the signature is Ed25519 over the note's text.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature algorithm byte of an Ed25519 note key.
const ED25519: u8 = 0x01;

/// The body of a checkpoint note (its text, which is what is signed).
pub fn checkpoint_text(origin: &str, size: i64, root: &[u8; 32]) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// The four-byte key hash that names a key in a signature line.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key string (`name+hash+base64(0x01 ‖ key)`) that `note.NewVerifier` reads.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    let mut bytes = vec![ED25519];
    bytes.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex::encode(key_hash(name, key)),
        STANDARD.encode(bytes)
    )
}

/// One signature line for `text` by `key` under the name `name`.
pub fn signature_line(text: &str, name: &str, key: &SigningKey) -> String {
    let mut sig = key_hash(name, &key.verifying_key()).to_vec();
    sig.extend_from_slice(&key.sign(text.as_bytes()).to_bytes());
    format!("\u{2014} {name} {}\n", STANDARD.encode(sig))
}

/// The signed note: its text, a blank line, its signature lines.
pub fn signed(text: &str, signatures: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 128 * signatures.len());
    out.push_str(text);
    out.push('\n');
    for line in signatures {
        out.push_str(line);
    }
    out
}

/// A note's text and its signature lines, split at the blank line.
pub fn split(note: &str) -> Option<(&str, Vec<&str>)> {
    let at = note.find("\n\n")?;
    let (text, rest) = note.split_at(at + 1);
    let lines = rest[1..].lines().filter(|l| !l.is_empty()).collect();
    Some((text, lines))
}

/// Whether `line` is a valid signature of `text` by `key` under `name`.
pub fn verify_line(text: &str, line: &str, name: &str, key: &VerifyingKey) -> bool {
    let Some(rest) = line.strip_prefix("\u{2014} ") else {
        return false;
    };
    let Some((line_name, b64)) = rest.split_once(' ') else {
        return false;
    };
    let Ok(bytes) = STANDARD.decode(b64) else {
        return false;
    };
    if line_name != name || bytes.len() != 68 || bytes[..4] != key_hash(name, key) {
        return false;
    }
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&bytes[4..]) else {
        return false;
    };
    key.verify_strict(text.as_bytes(), &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_note_has_the_c2sp_form_and_verifies() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let text = checkpoint_text("example.com/log", 7, &[0xab; 32]);
        assert_eq!(
            text,
            format!("example.com/log\n7\n{}\n", STANDARD.encode([0xab; 32]))
        );
        let line = signature_line(&text, "example.com/log", &key);
        assert!(line.starts_with("\u{2014} example.com/log "));
        let note = signed(&text, std::slice::from_ref(&line));
        let (t, lines) = split(&note).unwrap();
        assert_eq!(t, text);
        assert_eq!(lines, vec![line.trim_end()]);
        let vk = key.verifying_key();
        assert!(verify_line(t, lines[0], "example.com/log", &vk));
        assert!(!verify_line(
            &text.replace('7', "8"),
            lines[0],
            "example.com/log",
            &vk
        ));
        assert!(!verify_line(t, lines[0], "other.example/log", &vk));
        let v = verifier_key("example.com/log", &vk);
        assert!(v.starts_with("example.com/log+"));
        assert_eq!(v.split('+').nth(1).unwrap().len(), 8);
    }
}
