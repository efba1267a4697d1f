//! `vendor-registry audit verify`: checks an exported ledger (JSON Lines) against the published
//! public key and the signed checkpoints, with no access to the service or its database.

use std::io::BufRead;

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::ledger::Row;
use crate::ledger::audit::Auditor;
use crate::ledger::chain::VerifyReport;
use crate::ledger::signing::{Checkpoint, PublicKeys, parse_public_key};

/// Reads public keys: the JSON of `GET /v1/audit/public-key`, a PEM key, or a raw base64 key.
pub fn read_keys(text: &str) -> Result<Vec<VerifyingKey>, String> {
    if let Ok(published) = serde_json::from_str::<PublicKeys>(text) {
        return published
            .keys
            .iter()
            .map(|k| parse_public_key(&k.public_key).ok_or_else(|| format!("bad key {}", k.key_id)))
            .collect();
    }
    parse_public_key(text)
        .map(|k| vec![k])
        .ok_or_else(|| "not an Ed25519 public key".into())
}

/// The log's origin, from the `note_verifier` of the JSON of `GET /v1/audit/public-key`.
pub fn origin_of(text: &str) -> Option<String> {
    let published = serde_json::from_str::<PublicKeys>(text).ok()?;
    let first = published.keys.first()?;
    crate::ledger::note::Verifier::parse(&first.note_verifier).map(|v| v.name)
}

/// Reads checkpoints: one object, an array, a whole list (`{"items": [...]}` with a null
/// `next_cursor`), or JSON Lines. One page of several is refused: checkpoints left out are a
/// truncation that would go unseen.
pub fn read_checkpoints(text: &str) -> Result<Vec<Checkpoint>, String> {
    let parse = |v: Value| -> Result<Vec<Checkpoint>, String> {
        let items = match v {
            Value::Array(items) => items,
            Value::Object(ref o) if o.contains_key("items") => {
                if o.get("next_cursor").is_some_and(|c| !c.is_null()) {
                    return Err(
                        "this is one page of several (next_cursor is set): fetch every \
                        page of GET /v1/audit/checkpoints, as docs/AUDIT.md shows"
                            .into(),
                    );
                }
                o["items"].as_array().cloned().unwrap_or_default()
            }
            other => vec![other],
        };
        items
            .into_iter()
            .map(|i| serde_json::from_value(i).map_err(|e| format!("not a checkpoint: {e}")))
            .collect()
    };
    match serde_json::from_str::<Value>(text) {
        Ok(v) => parse(v),
        Err(_) => {
            let mut all = Vec::new();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                all.extend(parse(
                    serde_json::from_str(line).map_err(|e| format!("bad line: {e}"))?,
                )?);
            }
            Ok(all)
        }
    }
}

fn row_of(line: &str) -> Result<Row, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let text = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("missing {k}"))
    };
    Ok(Row {
        seq: v["seq"].as_i64().ok_or("missing seq")?,
        at: text("at")?,
        actor: crate::jcs::to_string(&v["actor"]),
        action: text("action")?,
        subject: text("subject")?,
        change: crate::jcs::to_string(&v["change"]),
        prev_hash: text("prev_hash")?,
        hash: text("hash")?,
        leaf_hash: String::new(),
    })
}

/// Verifies an export read from `entries`. Checkpoints are checked only against a full export
/// (one that starts at seq 1), since a tree head covers every entry from the first.
pub fn verify(
    entries: impl BufRead,
    checkpoints: Vec<Checkpoint>,
    keys: &[VerifyingKey],
) -> Result<VerifyReport, String> {
    let mut auditor: Option<Auditor> = None;
    let mut pending = Some(checkpoints);
    for (n, line) in entries.lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read the export: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let row = row_of(&line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let a = auditor.get_or_insert_with(|| {
            let cps = pending.take().unwrap_or_default();
            if row.seq == 1 {
                Auditor::new(cps, keys)
            } else {
                Auditor::starting_at(row.seq, &row.prev_hash, keys)
            }
        });
        a.push(&row, None);
    }
    let auditor = auditor.unwrap_or_else(|| Auditor::new(pending.take().unwrap_or_default(), keys));
    Ok(auditor.finish(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_of_several_checkpoints_is_refused_and_a_whole_list_read() {
        let cp =
            r#"{"size": 1, "root_hash": "00", "signed_at": "t", "key_id": "k", "signature": "s"}"#;
        let page = format!(r#"{{"items": [{cp}], "next_cursor": "YzE6MQ"}}"#);
        let err = read_checkpoints(&page).unwrap_err();
        assert!(err.contains("next_cursor"), "{err}");
        let last = format!(r#"{{"items": [{cp}], "next_cursor": null}}"#);
        assert_eq!(read_checkpoints(&last).unwrap().len(), 1);
        let lines = format!("{cp}\n{cp}\n");
        assert_eq!(read_checkpoints(&lines).unwrap().len(), 2);
    }
}
