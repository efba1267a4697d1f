//! C2SP `tlog-checkpoint` signed notes (the format of Certificate Transparency's static logs,
//! Go's checksum database and Sigsum), so a checkpoint can be checked with tools the project did
//! not write: `golang.org/x/mod/sumdb/note` among them. Pure: no I/O.
//!
//! A checkpoint note is three lines — the log's origin, the tree size in decimal, the RFC 6962
//! root hash in base64 — then a blank line and one signature line per signer:
//! `— <key name> <base64(key hash ‖ signature)>`, where the key hash is the first four bytes of
//! SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key) and the signature is Ed25519 over the note's text.
//!
//! A witness adds a C2SP `tlog-cosignature` (cosignature/v1) line to the same note: its key hash
//! uses the type byte 0x04, and it signs `cosignature/v1\ntime <unix seconds>\n` followed by the
//! note's text, carrying the timestamp (8 bytes, big-endian) before the signature.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature algorithm byte of an Ed25519 note key.
const ED25519: u8 = 0x01;
/// The signature algorithm byte of an Ed25519 cosignature/v1 (witness) key.
const COSIGNATURE_V1: u8 = 0x04;

/// The body of a checkpoint note (its text, which is what is signed).
pub fn checkpoint_text(origin: &str, size: i64, root: &[u8; 32]) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// The four-byte key hash that names a key of type `alg` in a signature line.
fn key_hash_of(name: &str, alg: u8, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', alg]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The four-byte key hash that names a log's key in a signature line.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    key_hash_of(name, ED25519, key)
}

fn vkey(name: &str, alg: u8, key: &VerifyingKey) -> String {
    let mut bytes = vec![alg];
    bytes.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex::encode(key_hash_of(name, alg, key)),
        STANDARD.encode(bytes)
    )
}

/// The verifier key string (`name+hash+base64(0x01 ‖ key)`) that `note.NewVerifier` reads.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    vkey(name, ED25519, key)
}

/// A witness's verifier key (`name+hash+base64(0x04 ‖ key)`), as C2SP `tlog-cosignature` writes it.
pub fn witness_verifier_key(name: &str, key: &VerifyingKey) -> String {
    vkey(name, COSIGNATURE_V1, key)
}

/// A parsed verifier key: whose it is, and whether it signs notes (a log) or cosignatures (a
/// witness).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub name: String,
    pub key: VerifyingKey,
    pub witness: bool,
}

impl Verifier {
    /// Parses `name+hash+base64(type ‖ key)`, checking that the hash is the key's.
    pub fn parse(text: &str) -> Option<Verifier> {
        // The name and hash hold no `+`; the base64 key may.
        let mut parts = text.trim().splitn(3, '+');
        let (name, hash, b64) = (parts.next()?, parts.next()?, parts.next()?);
        let bytes = STANDARD.decode(b64).ok()?;
        let (&alg, raw) = bytes.split_first()?;
        let key = VerifyingKey::from_bytes(raw.try_into().ok()?).ok()?;
        let witness = match alg {
            ED25519 => false,
            COSIGNATURE_V1 => true,
            _ => return None,
        };
        let valid_name = !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+');
        (valid_name && hex::encode(key_hash_of(name, alg, &key)) == hash).then(|| Verifier {
            name: name.to_owned(),
            key,
            witness,
        })
    }

    /// The key in its text form again.
    pub fn text(&self) -> String {
        let alg = if self.witness {
            COSIGNATURE_V1
        } else {
            ED25519
        };
        vkey(&self.name, alg, &self.key)
    }
}

/// A checkpoint note's text read back: `(origin, size, root)`.
pub fn parse_checkpoint(text: &str) -> Option<(String, i64, [u8; 32])> {
    let mut lines = text.split_terminator('\n');
    let origin = lines.next().filter(|o| !o.is_empty())?.to_owned();
    let size = lines.next()?;
    if size.is_empty()
        || !size.bytes().all(|b| b.is_ascii_digit())
        || (size.len() > 1 && size.starts_with('0'))
    {
        return None;
    }
    let root = STANDARD.decode(lines.next()?).ok()?.try_into().ok()?;
    Some((origin, size.parse().ok()?, root))
}

/// What a cosignature/v1 signs: the header and time lines, then the checkpoint's text.
fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// A witness's cosignature/v1 line over the checkpoint `text`, made at `timestamp`.
pub fn cosignature_line(text: &str, name: &str, key: &SigningKey, timestamp: u64) -> String {
    let mut sig = key_hash_of(name, COSIGNATURE_V1, &key.verifying_key()).to_vec();
    sig.extend_from_slice(&timestamp.to_be_bytes());
    sig.extend_from_slice(
        &key.sign(cosigned_message(text, timestamp).as_bytes())
            .to_bytes(),
    );
    format!("\u{2014} {name} {}\n", STANDARD.encode(sig))
}

/// The timestamp of `line` when it is a valid cosignature/v1 of `text` by `witness`.
pub fn verify_cosignature(text: &str, line: &str, witness: &Verifier) -> Option<u64> {
    let (line_name, bytes) = signature_of(line)?;
    if !witness.witness
        || line_name != witness.name
        || bytes.len() != 76
        || bytes[..4] != key_hash_of(&witness.name, COSIGNATURE_V1, &witness.key)
    {
        return None;
    }
    let timestamp = u64::from_be_bytes(bytes[4..12].try_into().ok()?);
    if timestamp > i64::MAX as u64 {
        return None;
    }
    let sig = ed25519_dalek::Signature::from_slice(&bytes[12..]).ok()?;
    let message = cosigned_message(text, timestamp);
    witness.key.verify_strict(message.as_bytes(), &sig).ok()?;
    Some(timestamp)
}

/// A signature line's name and decoded bytes.
fn signature_of(line: &str) -> Option<(&str, Vec<u8>)> {
    let rest = line.trim_end_matches('\n').strip_prefix("\u{2014} ")?;
    let (name, b64) = rest.split_once(' ')?;
    Some((name, STANDARD.decode(b64).ok()?))
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
    let Some((line_name, bytes)) = signature_of(line) else {
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
        assert_eq!(Verifier::parse(&v).map(|p| p.text()), Some(v));
        assert_eq!(
            parse_checkpoint(&text),
            Some(("example.com/log".into(), 7, [0xab; 32]))
        );
        assert_eq!(parse_checkpoint("example.com/log\n07\nAA==\n"), None);
    }

    #[test]
    fn a_cosignature_verifies_only_for_its_witness_checkpoint_and_time() {
        // Keys whose base64 holds a `+` parse too.
        for seed in 0u8..64 {
            let k = SigningKey::from_bytes(&[seed; 32]).verifying_key();
            let text = witness_verifier_key("w", &k);
            assert_eq!(Verifier::parse(&text).map(|v| v.key), Some(k), "{text}");
        }
        let witness = SigningKey::from_bytes(&[5u8; 32]);
        let vkey = witness_verifier_key("auditor.example/w1", &witness.verifying_key());
        let w = Verifier::parse(&vkey).unwrap();
        assert!(w.witness);
        let text = checkpoint_text("example.com/log", 20852163, &[0x11; 32]);
        let line = cosignature_line(&text, "auditor.example/w1", &witness, 1679315147);
        assert_eq!(verify_cosignature(&text, &line, &w), Some(1679315147));
        assert_eq!(
            verify_cosignature(&text.replace("20852163", "20852164"), &line, &w),
            None
        );
        // The time is signed: moving it breaks the signature.
        let mut bytes = signature_of(&line).unwrap().1;
        bytes[11] ^= 1;
        let moved = format!("\u{2014} auditor.example/w1 {}", STANDARD.encode(bytes));
        assert_eq!(verify_cosignature(&text, &moved, &w), None);
        // A log key is not a witness key, and a note signature is not a cosignature.
        let as_log = Verifier::parse(&verifier_key(
            "auditor.example/w1",
            &witness.verifying_key(),
        ))
        .unwrap();
        assert_eq!(verify_cosignature(&text, &line, &as_log), None);
        let note_line = signature_line(&text, "auditor.example/w1", &witness);
        assert_eq!(verify_cosignature(&text, &note_line, &w), None);
        // A key string whose hash is not its key's is refused.
        let mut forged = vkey.clone();
        forged.replace_range(
            vkey.find('+').unwrap() + 1..vkey.find('+').unwrap() + 3,
            "zz",
        );
        assert_eq!(Verifier::parse(&forged), None);
    }
}
