//! The Ed25519 key that signs checkpoints, and checkpoint signatures.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// A signed tree head: the ledger's first `size` entries have Merkle root `root_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"size": 1234, "root_hash": "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    "signed_at": "2026-11-29T10:00:00.000000Z", "key_id": "3f2a9c1e0b7d4a5e",
    "signature": "base64 Ed25519 signature"}))]
pub struct Checkpoint {
    /// How many entries the tree holds (entries `1..=size`).
    pub size: i64,
    /// RFC 9162 Merkle tree hash of those entries, lowercase hex.
    pub root_hash: String,
    /// When it was signed (RFC 3339, UTC).
    pub signed_at: String,
    /// Which key signed it (see `GET /v1/audit/public-key`).
    pub key_id: String,
    /// Base64 Ed25519 signature of the RFC 8785 serialisation of
    /// `{size, root_hash, signed_at, key_id}`.
    pub signature: String,
    /// What witnesses sent for this checkpoint (C2SP cosignature/v1), oldest first; not part
    /// of what the log signs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cosignatures: Vec<super::witness::Cosignature>,
}

impl Checkpoint {
    /// The bytes that are signed.
    pub fn signed_bytes(size: i64, root_hash: &str, signed_at: &str, key_id: &str) -> Vec<u8> {
        crate::jcs::to_string(&json!({"size": size, "root_hash": root_hash, "signed_at": signed_at, "key_id": key_id}))
            .into_bytes()
    }
}

/// A public key that checkpoints are checked against.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicKey {
    /// The first 16 hex digits of SHA-256 of the raw public key; checkpoints name it.
    pub key_id: String,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// The raw 32-byte public key, base64.
    pub public_key: String,
    /// The same key as a PEM SubjectPublicKeyInfo.
    pub public_key_pem: String,
    /// The key as a C2SP signed-note verifier (`origin+hash+key`), for the checkpoint notes of
    /// `GET /v1/audit/checkpoint` with `Accept: text/plain` (e.g. Go's `note.NewVerifier`).
    pub note_verifier: String,
}

/// The keys published at `GET /v1/audit/public-key`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"keys": [{"key_id": "637fe87fd97ebee5", "algorithm": "Ed25519",
    "public_key": "w0zUuTacsUIWn5Cx2j7Pbf+e9fDPxtHh8bSs8jtOLDs=",
    "public_key_pem": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAw0zUuTacsUIWn5Cx2j7Pbf+e9fDPxtHh8bSs8jtOLDs=\n-----END PUBLIC KEY-----\n",
    "note_verifier": "vendor-registry/637fe87fd97ebee5+9446b014+AcNM1Lk2nLFCFp+Qsdo+z23/nvXwz8bR4fG0rPI7Tiw7"}]}))]
pub struct PublicKeys {
    /// The current signing key first, then older keys still trusted for old checkpoints.
    pub keys: Vec<PublicKey>,
}

/// `key_id`: the first 16 hex digits of SHA-256 of the raw public key.
pub fn key_id(key: &VerifyingKey) -> String {
    crate::ledger::chain::sha256_hex(key.as_bytes())[..16].to_owned()
}

/// The published form of `key`, whose notes are signed under the name `origin`.
pub fn describe(key: &VerifyingKey, origin: &str) -> PublicKey {
    PublicKey {
        key_id: key_id(key),
        algorithm: "Ed25519".into(),
        public_key: STANDARD.encode(key.as_bytes()),
        public_key_pem: key
            .to_public_key_pem(Default::default())
            .unwrap_or_default(),
        note_verifier: super::note::verifier_key(origin, key),
    }
}

/// Parses a published key (raw base64 or PEM).
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(text).ok();
    }
    let bytes: [u8; 32] = STANDARD.decode(text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// An Ed25519 private key as PKCS#8 v1 PEM (RFC 8410: the seed only, no public key), the form
/// OpenSSL 3.0 and pyca/cryptography read; ed25519-dalek's own writer emits v2.
pub fn pkcs8_v1_pem(key: &SigningKey) -> String {
    // SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&key.to_bytes());
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(der)
    )
}

/// The node's signing key and the keys it trusts, with what it last signed.
pub struct LedgerKeys {
    signing: SigningKey,
    trusted: Vec<VerifyingKey>,
    /// Whether this node's checks found the ledger altered.
    pub integrity: super::integrity::Integrity,
    /// The log's name in its C2SP checkpoints (their first line, and the signer's name).
    origin: String,
}

impl LedgerKeys {
    /// Loads `configured` (a PKCS#8 PEM file), or the key generated into `data_dir`.
    /// `extra_trusted` are older public keys whose checkpoints still verify.
    pub fn load(
        configured: Option<&crate::keyfile::KeySource>,
        data_dir: &Path,
        extra_trusted: &[String],
    ) -> Result<LedgerKeys, String> {
        let bytes = match configured {
            Some(source) => source.read("VENDOR_REGISTRY_LEDGER_KEY")?,
            None => {
                crate::keyfile::load_or_create(&data_dir.join("ledger-signing-key.pem"), || {
                    pkcs8_v1_pem(&SigningKey::from_bytes(&rand::random::<[u8; 32]>())).into_bytes()
                })?
            }
        };
        // Messages name the setting, never its value: the value may be the key itself.
        let pem = String::from_utf8(bytes).map_err(|_| {
            "the ledger signing key (VENDOR_REGISTRY_LEDGER_KEY or the generated file) is not PEM"
                .to_owned()
        })?;
        let signing = SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| {
            "the ledger signing key (VENDOR_REGISTRY_LEDGER_KEY or the generated file) is not an \
             Ed25519 PKCS#8 PEM private key"
                .to_owned()
        })?;
        let mut keys = LedgerKeys::from_signing_key(signing);
        for k in extra_trusted {
            keys.trusted.push(
                parse_public_key(k).ok_or_else(|| format!("not an Ed25519 public key: {k}"))?,
            );
        }
        Ok(keys)
    }

    pub fn from_signing_key(signing: SigningKey) -> LedgerKeys {
        LedgerKeys {
            trusted: vec![signing.verifying_key()],
            origin: format!("vendor-registry/{}", key_id(&signing.verifying_key())),
            signing,
            integrity: Default::default(),
        }
    }

    pub fn key_id(&self) -> String {
        key_id(&self.signing.verifying_key())
    }

    pub fn sign(&self, size: i64, root_hash: &str, signed_at: String) -> Checkpoint {
        let key_id = self.key_id();
        let sig = self.signing.sign(&Checkpoint::signed_bytes(
            size, root_hash, &signed_at, &key_id,
        ));
        Checkpoint {
            size,
            root_hash: root_hash.to_owned(),
            signed_at,
            key_id,
            signature: STANDARD.encode(sig.to_bytes()),
            cosignatures: Vec::new(),
        }
    }

    pub fn public_keys(&self) -> PublicKeys {
        PublicKeys {
            keys: self
                .trusted
                .iter()
                .map(|k| describe(k, &self.origin))
                .collect(),
        }
    }

    /// Names the log in its C2SP checkpoints; by default `vendor-registry/<key_id>`.
    pub fn with_origin(mut self, origin: Option<String>) -> LedgerKeys {
        if let Some(origin) = origin.filter(|o| !o.is_empty()) {
            self.origin = origin;
        }
        self
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `cp` as a C2SP signed note, signed by this node's key under the log's origin. Ed25519
    /// signatures are deterministic: the same checkpoint always gives the same note.
    /// The witnesses' cosignature lines follow the log's own signature.
    pub fn note(&self, cp: &Checkpoint) -> Option<String> {
        let text = self.note_text(cp)?;
        let mut lines = vec![super::note::signature_line(
            &text,
            &self.origin,
            &self.signing,
        )];
        lines.extend(
            cp.cosignatures
                .iter()
                .map(|c| format!("{}\n", c.signature_line.trim_end())),
        );
        Some(super::note::signed(&text, &lines))
    }

    /// The text of `cp`'s note (what the log and its witnesses sign).
    pub fn note_text(&self, cp: &Checkpoint) -> Option<String> {
        let root: [u8; 32] = hex::decode(&cp.root_hash).ok()?.try_into().ok()?;
        Some(super::note::checkpoint_text(&self.origin, cp.size, &root))
    }

    pub fn trusted(&self) -> &[VerifyingKey] {
        &self.trusted
    }
}

/// True when `cp` carries a valid signature by one of `keys` (matched by `key_id`).
pub fn verify_checkpoint(cp: &Checkpoint, keys: &[VerifyingKey]) -> bool {
    let Some(key) = keys.iter().find(|k| key_id(k) == cp.key_id) else {
        return false;
    };
    let Ok(bytes) = STANDARD.decode(&cp.signature) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&bytes) else {
        return false;
    };
    key.verify(
        &Checkpoint::signed_bytes(cp.size, &cp.root_hash, &cp.signed_at, &cp.key_id),
        &sig,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_only_unaltered_and_with_its_key() {
        let keys = LedgerKeys::from_signing_key(SigningKey::from_bytes(&[7u8; 32]));
        let cp = keys.sign(5, "ab", "2026-01-01T00:00:00.000000Z".into());
        assert!(verify_checkpoint(&cp, keys.trusted()));
        for altered in [
            Checkpoint {
                size: 6,
                ..cp.clone()
            },
            Checkpoint {
                root_hash: "ac".into(),
                ..cp.clone()
            },
            Checkpoint {
                signed_at: "2026-01-01T00:00:01.000000Z".into(),
                ..cp.clone()
            },
        ] {
            assert!(!verify_checkpoint(&altered, keys.trusted()));
        }
        let other = LedgerKeys::from_signing_key(SigningKey::from_bytes(&[8u8; 32]));
        assert!(!verify_checkpoint(&cp, other.trusted()));
        let published = &keys.public_keys().keys[0];
        assert_eq!(
            parse_public_key(&published.public_key),
            Some(keys.trusted()[0])
        );
        assert_eq!(
            parse_public_key(&published.public_key_pem),
            Some(keys.trusted()[0])
        );
    }
}
