//! `vendor-registry audit witness`: an auditor's own witness (C2SP tlog-witness semantics, run
//! from the auditor's machine). It keeps, in its own state directory, its key and the last
//! checkpoint it cosigned; it cosigns a new checkpoint only when the log's signature verifies
//! with the key it was given and a consistency proof shows the new tree extends the one it
//! cosigned, computed against the roots it holds, never the ones the server sends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vendor_registry::ledger::merkle::Hash;
use vendor_registry::ledger::note::{self, Verifier};
use vendor_registry::ledger::witness;

/// What the witness remembers: the last checkpoint it cosigned, as the log signed it.
#[derive(Debug, Serialize, Deserialize)]
pub struct State {
    pub origin: String,
    pub size: i64,
    /// The root, lowercase hex.
    pub root_hash: String,
    /// The signed note, the log's signature and this witness's cosignature.
    pub note: String,
}

pub struct Witness<'a> {
    pub url: &'a str,
    pub token: &'a str,
    pub log_key: &'a str,
    pub state_dir: &'a Path,
    pub name: Option<&'a str>,
}

fn key_of(dir: &Path) -> Result<SigningKey, String> {
    let path = dir.join("witness-key.pem");
    let pem = vendor_registry::keyfile::load_or_create(&path, || {
        vendor_registry::ledger::signing::pkcs8_v1_pem(&SigningKey::from_bytes(&rand::random::<
            [u8; 32],
        >()))
        .into_bytes()
    })?;
    let text = String::from_utf8(pem).map_err(|_| format!("{} is not PEM", path.display()))?;
    SigningKey::from_pkcs8_pem(text.trim())
        .map_err(|_| format!("{} is not an Ed25519 PKCS#8 private key", path.display()))
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// The witness's name: the one given, or one derived from its key.
fn name_of(key: &SigningKey, name: Option<&str>) -> String {
    name.map_or_else(
        || {
            let id = hex::encode(key.verifying_key().as_bytes());
            format!("vendor-registry-witness/{}", &id[..16])
        },
        str::to_owned,
    )
}

/// The witness's verifier key (what auditors pass as `--witness-key`).
pub fn verifier_key(dir: &Path, name: Option<&str>) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let key = key_of(dir)?;
    Ok(note::witness_verifier_key(
        &name_of(&key, name),
        &key.verifying_key(),
    ))
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn get(agent: &ureq::Agent, w: &Witness, path: &str, accept: &str) -> Result<String, String> {
    let url = format!("{}{path}", w.url.trim_end_matches('/'));
    let mut r = agent
        .get(&url)
        .header("Authorization", format!("Bearer {}", w.token))
        .header("Accept", accept)
        .call()
        .map_err(|e| format!("GET {path}: {e}"))?;
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("GET {path}: {e}"))?;
    if status != 200 {
        return Err(format!("GET {path} answered {status}: {body}"));
    }
    Ok(body)
}

fn hash_of(hexed: &Value) -> Option<Hash> {
    hex::decode(hexed.as_str()?).ok()?.try_into().ok()
}

/// One round: fetch, check, cosign, remember, send. Returns what it did, for the auditor.
pub fn run(w: &Witness) -> Result<Value, String> {
    std::fs::create_dir_all(w.state_dir)
        .map_err(|e| format!("cannot create {}: {e}", w.state_dir.display()))?;
    let log = Verifier::parse(w.log_key)
        .filter(|v| !v.witness)
        .ok_or("--log-key is not a log's note verifier key (the note_verifier of GET /v1/audit/public-key)")?;
    let key = key_of(w.state_dir)?;
    let name = name_of(&key, w.name);
    let agent = http();
    let signed = get(&agent, w, "/v1/audit/checkpoint", "text/plain")?;
    let (text, lines) = note::split(&signed).ok_or("the checkpoint is not a signed note")?;
    if !lines
        .iter()
        .any(|l| note::verify_line(text, l, &log.name, &log.key))
    {
        return Err(
            "refusing to cosign: the checkpoint does not carry a valid signature by the log key"
                .into(),
        );
    }
    let (origin, size, root) =
        note::parse_checkpoint(text).ok_or("the checkpoint note is malformed")?;
    if origin != log.name {
        return Err(format!(
            "refusing to cosign: the checkpoint is of {origin}, not {}",
            log.name
        ));
    }
    let previous: Option<State> = match std::fs::read_to_string(state_path(w.state_dir)) {
        Ok(t) => Some(
            serde_json::from_str(&t)
                .map_err(|e| format!("the witness state is unreadable: {e}"))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read the witness state: {e}")),
    };
    if let Some(prev) = &previous {
        if prev.origin != origin {
            return Err(format!(
                "the witness state is of {}, not {origin}",
                prev.origin
            ));
        }
        check_consistent(&agent, w, prev, size, &root)?;
    }
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let line = note::cosignature_line(text, &name, &key, timestamp);
    let mut all: Vec<String> = lines.iter().map(|l| format!("{l}\n")).collect();
    all.push(line.clone());
    let state = State {
        origin,
        size,
        root_hash: hex::encode(root),
        note: note::signed(text, &all),
    };
    // Remembered before it is sent: the witness has vouched for this tree either way.
    let tmp = w.state_dir.join("state.json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&state).map_err(|e| e.to_string())?,
    )
    .and_then(|_| std::fs::rename(&tmp, state_path(w.state_dir)))
    .map_err(|e| format!("cannot save the witness state: {e}"))?;
    let witness_key = note::witness_verifier_key(&name, &key.verifying_key());
    let body = json!({"checkpoint_size": size, "witness_key": witness_key, "signature_line": line.trim_end()});
    let url = format!("{}/v1/audit/cosignatures", w.url.trim_end_matches('/'));
    let mut r = agent
        .post(&url)
        .header("Authorization", format!("Bearer {}", w.token))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .map_err(|e| format!("POST /v1/audit/cosignatures: {e}"))?;
    let status = r.status().as_u16();
    let answer = r.body_mut().read_to_string().unwrap_or_default();
    if status != 201 && status != 200 {
        return Err(format!(
            "the service did not take the cosignature ({status}): {answer}"
        ));
    }
    Ok(
        json!({"cosigned": {"size": size, "root_hash": state.root_hash},
        "previous": previous.map(|p| json!({"size": p.size, "root_hash": p.root_hash})),
        "witness_key": witness_key}),
    )
}

/// The new tree of `size` and `root` must extend the one the witness cosigned.
fn check_consistent(
    agent: &ureq::Agent,
    w: &Witness,
    prev: &State,
    size: i64,
    root: &Hash,
) -> Result<(), String> {
    let old: Hash = hex::decode(&prev.root_hash)
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or("the witness state holds no root")?;
    let proof = if size > prev.size {
        let path = format!("/v1/audit/consistency?from={}&to={size}", prev.size);
        let body = get(agent, w, &path, "application/json")?;
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| format!("the consistency proof is not JSON: {e}"))?;
        let proof: Option<Vec<Hash>> = v["proof"]
            .as_array()
            .and_then(|p| p.iter().map(hash_of).collect());
        Some(proof.ok_or("the consistency proof is malformed")?)
    } else {
        None
    };
    witness::extends((prev.size, &old), (size, root), proof.as_deref())
}
