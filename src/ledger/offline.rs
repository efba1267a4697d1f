//! `vendor-registry audit verify`: checks an exported ledger (JSON Lines) against the published
//! public key and the signed checkpoints, with no access to the service or its database.

use std::io::BufRead;
use std::sync::mpsc;

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::ledger::Row;
use crate::ledger::audit::{Auditor, Hashed};
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

/// Lines handed to a worker at a time.
const BATCH: usize = 512;

/// A batch of lines with the line number of each, or why the export could not be read.
type Lines = Result<Vec<(usize, String)>, String>;
/// Each line's row and hashes, in the batch's order.
type Prepared = Result<Vec<(Row, Hashed)>, String>;

fn prepare(lines: Lines) -> Prepared {
    lines?
        .into_iter()
        .map(|(n, line)| {
            let row = row_of(&line).map_err(|e| format!("line {n}: {e}"))?;
            // `row_of` serialised actor and change from parsed JSON: no need to check they are.
            let hashed = Hashed::of_bytes(Some(crate::ledger::chain::assembled(&row)));
            Ok((row, hashed))
        })
        .collect()
}

/// Verifies an export read from `entries`. Checkpoints are checked only against a full export
/// (one that starts at seq 1), since a tree head covers every entry from the first.
///
/// Parsing each line, putting it in canonical form and hashing it is independent of every other
/// line: batches of lines go round-robin to one worker per core and come back in the same
/// order, and one thread checks the chain and the tree in `seq` order. Memory stays bounded:
/// each worker holds at most a few batches.
pub fn verify(
    entries: impl BufRead + Send,
    checkpoints: Vec<Checkpoint>,
    keys: &[VerifyingKey],
) -> Result<VerifyReport, String> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8));
    std::thread::scope(|scope| {
        let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
        for _ in 0..workers {
            let (to_worker, work) = mpsc::sync_channel::<Lines>(2);
            let (done, from_worker) = mpsc::sync_channel::<Prepared>(2);
            scope.spawn(move || {
                for lines in work {
                    if done.send(prepare(lines)).is_err() {
                        break;
                    }
                }
            });
            inputs.push(to_worker);
            outputs.push(from_worker);
        }
        scope.spawn(move || read_batches(entries, &inputs));
        check_in_order(&outputs, checkpoints, keys)
    })
}

/// Reads `entries` into batches of non-empty lines, sent round-robin to `workers`; stops at
/// the end, at a read error (sent on as the last batch), or when the checker stopped listening.
fn read_batches(entries: impl BufRead, workers: &[mpsc::SyncSender<Lines>]) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut next = 0;
    let mut send = |batch: Lines| {
        let sent = workers[next % workers.len()].send(batch).is_ok();
        next += 1;
        sent
    };
    for (n, line) in entries.lines().enumerate() {
        match line {
            Ok(line) if line.trim().is_empty() => {}
            Ok(line) => {
                batch.push((n + 1, line));
                if batch.len() == BATCH && !send(Ok(std::mem::take(&mut batch))) {
                    return;
                }
            }
            Err(e) => {
                send(Err(format!("cannot read the export: {e}")));
                return;
            }
        }
    }
    if !batch.is_empty() {
        send(Ok(batch));
    }
}

/// Takes the prepared batches back in the order they were sent and checks them in `seq` order.
fn check_in_order(
    outputs: &[mpsc::Receiver<Prepared>],
    checkpoints: Vec<Checkpoint>,
    keys: &[VerifyingKey],
) -> Result<VerifyReport, String> {
    let mut auditor: Option<Auditor> = None;
    let mut pending = Some(checkpoints);
    let mut next = 0;
    while let Ok(prepared) = outputs[next % outputs.len()].recv() {
        next += 1;
        for (row, hashed) in prepared? {
            let a = auditor.get_or_insert_with(|| {
                let cps = pending.take().unwrap_or_default();
                if row.seq == 1 {
                    Auditor::new(cps, keys)
                } else {
                    Auditor::starting_at(row.seq, &row.prev_hash, keys)
                }
            });
            a.push_hashed(&row, &hashed, None);
        }
    }
    let auditor = auditor.unwrap_or_else(|| Auditor::new(pending.take().unwrap_or_default(), keys));
    Ok(auditor.finish(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An export of `n` chained entries, one JSON line each.
    fn export(n: i64) -> Vec<String> {
        let mut prev = crate::ledger::GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let row = crate::ledger::chain::seal(
                    seq,
                    format!("2026-12-03T10:00:00.{seq:06}Z"),
                    &serde_json::json!({"sub": "alice"}),
                    "party.updated",
                    &format!("party:{seq}"),
                    &serde_json::json!({"n": seq, "name": "Acme"}),
                    prev.clone(),
                );
                prev = row.hash.clone();
                serde_json::to_string(&row.entry().unwrap()).unwrap()
            })
            .collect()
    }

    #[test]
    fn many_batches_are_checked_in_order_and_errors_name_their_line() {
        // Several batches per worker: the order they come back in is the order they were read.
        let lines = export(3 * BATCH as i64 + 77);
        let text = lines.join("\n");
        let r = verify(text.as_bytes(), vec![], &[]).unwrap();
        assert!(r.ok, "{r:?}");
        assert_eq!(r.entries, lines.len() as i64);
        // Two entries swapped across a batch boundary: caught at the first out of place.
        let mut swapped = lines.clone();
        swapped.swap(BATCH - 1, BATCH);
        let r = verify(swapped.join("\n").as_bytes(), vec![], &[]).unwrap();
        assert_eq!(r.first_bad_seq, Some(BATCH as i64), "{r:?}");
        // An edited entry in the third batch, and blank lines that still count as lines.
        let mut edited = lines.clone();
        edited[2 * BATCH + 5] = edited[2 * BATCH + 5].replace("Acme", "Acne");
        let r = verify(edited.join("\n").as_bytes(), vec![], &[]).unwrap();
        assert_eq!(r.first_bad_seq, Some(2 * BATCH as i64 + 6), "{r:?}");
        let mut broken = lines;
        broken[BATCH + 3] = "{not json".into();
        let text = format!("\n{}", broken.join("\n"));
        let e = verify(text.as_bytes(), vec![], &[]).unwrap_err();
        assert!(
            e.starts_with(&format!("line {}: not JSON", BATCH + 5)),
            "{e}"
        );
    }

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
