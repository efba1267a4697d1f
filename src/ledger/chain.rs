//! Pure hash-chain logic: sealing an entry and checking a sequence of entries.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{GENESIS_HASH, Row};

/// The JCS serialisation of an entry without its `hash` (what is hashed, and the Merkle leaf),
/// assembled from `actor` and `change` already in canonical form: the members in RFC 8785
/// order (action, actor, at, change, prev_hash, seq, subject).
fn assemble(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    change: &str,
    prev_hash: &str,
) -> String {
    use crate::jcs::write_str;
    use std::fmt::Write;
    let mut out = String::with_capacity(actor.len() + change.len() + 192);
    out.push_str("{\"action\":");
    write_str(action, &mut out);
    out.push_str(",\"actor\":");
    out.push_str(actor);
    out.push_str(",\"at\":");
    write_str(at, &mut out);
    out.push_str(",\"change\":");
    out.push_str(change);
    out.push_str(",\"prev_hash\":");
    write_str(prev_hash, &mut out);
    let _ = write!(out, ",\"seq\":{seq},\"subject\":");
    write_str(subject, &mut out);
    out.push('}');
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds the row for a new entry, hash included.
pub fn seal(
    seq: i64,
    at: String,
    actor: &Value,
    action: &str,
    subject: &str,
    change: &Value,
    prev_hash: String,
) -> Row {
    let (actor, change) = (crate::jcs::to_string(actor), crate::jcs::to_string(change));
    seal_canonical(seq, at, actor, action, subject, change, prev_hash)
}

/// [`seal`] with `actor` and `change` already in canonical (RFC 8785) form.
pub fn seal_canonical(
    seq: i64,
    at: String,
    actor: String,
    action: &str,
    subject: &str,
    change: String,
    prev_hash: String,
) -> Row {
    let text = assemble(seq, &at, &actor, action, subject, &change, &prev_hash);
    let hash = sha256_hex(text.as_bytes());
    let leaf_hash = hex::encode(super::merkle::leaf_hash(text.as_bytes()));
    Row {
        seq,
        at,
        actor,
        action: action.to_owned(),
        subject: subject.to_owned(),
        change,
        prev_hash,
        hash,
        leaf_hash,
    }
}

/// The canonical serialisation of a stored row without its hash: what its `hash` covers and
/// its Merkle leaf. Rows store `actor` and `change` in canonical form, so the text is assembled
/// from the stored bytes as they are: any change to them, even one that keeps the JSON's
/// meaning, changes the hash. Each must still be exactly one JSON value, so that no choice of
/// stored texts can assemble into another entry's text. `None` when one is not.
pub fn leaf_bytes(row: &Row) -> Option<Vec<u8>> {
    let one_value = |text: &str| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    if !one_value(&row.actor) || !one_value(&row.change) {
        return None;
    }
    Some(assembled(row))
}

/// [`leaf_bytes`] of a row whose `actor` and `change` were just serialised canonically from
/// parsed JSON (as the offline verifier builds its rows), so each is one JSON value already.
pub fn assembled(row: &Row) -> Vec<u8> {
    assemble(
        row.seq,
        &row.at,
        &row.actor,
        &row.action,
        &row.subject,
        &row.change,
        &row.prev_hash,
    )
    .into_bytes()
}

/// The outcome of checking the log.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({"ok": true, "entries": 1234, "head_seq": 1234, "head_hash": "9a2b…", "first_bad_seq": null}))]
pub struct VerifyReport {
    /// True when every entry is intact, in place, and chained to the one before it.
    pub ok: bool,
    /// How many entries were checked.
    pub entries: i64,
    /// The last entry's `seq` (0 for an empty log).
    pub head_seq: i64,
    /// The last entry's hash (64 zeros for an empty log).
    pub head_hash: String,
    /// The lowest `seq` whose entry is missing, altered or out of place; null when ok. When an
    /// entry was rewritten together with every later hash, only the signed checkpoints reveal
    /// it: then this is the entry itself when the leaf hashes stored with the entries still
    /// match the checkpoint, else the first entry after the last checkpoint that matches.
    pub first_bad_seq: Option<i64>,
    /// How many signed checkpoints were checked.
    #[serde(default)]
    pub checkpoints_checked: i64,
    /// What was found, in words (empty when ok).
    #[serde(default)]
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Adds problems found by a further check (the witnesses'); any makes the report fail.
    pub fn fail_with(&mut self, problems: Vec<String>) {
        if !problems.is_empty() {
            self.ok = false;
            self.problems.extend(problems);
        }
    }
}

/// Walks the rows in `seq` order, remembering the first defect.
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    entries: i64,
    first_bad: Option<i64>,
    /// The last row read, good or not: the head the report names.
    last: Option<(i64, String)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.into(),
            entries: 0,
            first_bad: None,
            last: None,
        }
    }
}

impl Verifier {
    /// A verifier for a log that starts at `seq` after an entry whose hash was `prev_hash`.
    pub fn starting_at(seq: i64, prev_hash: &str) -> Verifier {
        Verifier {
            expected_seq: seq,
            prev_hash: prev_hash.to_owned(),
            entries: 0,
            first_bad: None,
            last: None,
        }
    }

    /// Checks the next row; returns false once a defect has been found.
    pub fn push(&mut self, row: &Row) -> bool {
        self.push_canonical(row, leaf_bytes(row).as_deref())
    }

    /// The same, with the row's canonical bytes already at hand (see [`leaf_bytes`]).
    pub fn push_canonical(&mut self, row: &Row, canonical: Option<&[u8]>) -> bool {
        self.push_hashed(row, canonical.map(sha256_hex).as_deref())
    }

    /// The same, with the SHA-256 (hex) of the row's canonical bytes already computed (`None`:
    /// its content is not JSON).
    pub fn push_hashed(&mut self, row: &Row, computed: Option<&str>) -> bool {
        self.last = Some((row.seq, row.hash.clone()));
        if self.first_bad.is_some() {
            return false;
        }
        if row.seq != self.expected_seq {
            // A gap (deleted entry) or a row out of order: the expected one is missing.
            self.first_bad = Some(self.expected_seq.min(row.seq.max(1)));
            return false;
        }
        if row.prev_hash != self.prev_hash || computed != Some(row.hash.as_str()) {
            self.first_bad = Some(row.seq);
            return false;
        }
        self.entries += 1;
        self.expected_seq += 1;
        self.prev_hash = row.hash.clone();
        true
    }

    /// Records that the log should reach at least `size` entries (the head row, a checkpoint):
    /// a log that stops short has lost its tail.
    pub fn expect_size(&mut self, size: i64) {
        if self.first_bad.is_none() && size >= self.expected_seq {
            self.first_bad = Some(self.expected_seq);
        }
    }

    /// Marks `seq` as bad when an outside record (a checkpoint) disagrees with the log there.
    pub fn mark_bad(&mut self, seq: i64) {
        self.first_bad = Some(self.first_bad.map_or(seq, |s| s.min(seq)));
    }

    /// The first defect found so far.
    pub fn first_bad(&self) -> Option<i64> {
        self.first_bad
    }

    pub fn report(&self) -> VerifyReport {
        VerifyReport {
            ok: self.first_bad.is_none(),
            entries: self.entries,
            head_seq: self.last.as_ref().map_or(0, |(seq, _)| *seq),
            head_hash: self
                .last
                .as_ref()
                .map_or_else(|| GENESIS_HASH.to_owned(), |(_, h)| h.clone()),
            first_bad_seq: self.first_bad,
            checkpoints_checked: 0,
            problems: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<Row> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let row = seal(
                    seq,
                    format!("2026-01-01T00:00:{:02}.000000Z", seq),
                    &json!({"sub": "t"}),
                    "party.created",
                    &format!("party:{seq}"),
                    &json!({"n": seq}),
                    prev.clone(),
                );
                prev = row.hash.clone();
                row
            })
            .collect()
    }

    #[test]
    fn the_assembled_entry_is_the_jcs_of_the_whole_entry() {
        let actor =
            json!({"sub": "alice \"the\" buyer\n", "role": "procurement", "ünï": "\u{1f600}"});
        let change = json!({"z": [1, -2, {"b": null, "a": true}], "a": "\u{0}\u{1f}\u{7f}/é"});
        let row = seal(
            42,
            "2026-11-29T00:00:00.000000Z".into(),
            &actor,
            "party.updated",
            "party:\"x\"",
            &change,
            GENESIS_HASH.to_owned(),
        );
        let whole = json!({"seq": 42, "at": "2026-11-29T00:00:00.000000Z", "actor": actor,
            "action": "party.updated", "subject": "party:\"x\"", "change": change, "prev_hash": GENESIS_HASH});
        let expected = crate::jcs::to_string(&whole);
        assert_eq!(leaf_bytes(&row).unwrap(), expected.as_bytes());
        assert_eq!(row.hash, sha256_hex(expected.as_bytes()));
    }

    #[test]
    fn stored_texts_that_are_not_one_json_value_do_not_verify() {
        let mut rows = chain(3);
        // Moving text between two fields could otherwise assemble the same bytes.
        rows[1].actor = format!("{},\"at\":\"x\"", rows[1].actor);
        assert!(leaf_bytes(&rows[1]).is_none());
        assert_eq!(check(&rows, 3).first_bad_seq, Some(2));
        let mut rows = chain(3);
        // The same JSON, written differently, is an alteration of the record.
        rows[2].change = rows[2].change.replace(':', ": ");
        assert!(leaf_bytes(&rows[2]).is_some());
        assert_eq!(check(&rows, 3).first_bad_seq, Some(3));
    }

    fn check(rows: &[Row], size: i64) -> VerifyReport {
        let mut v = Verifier::default();
        for r in rows {
            if !v.push(r) {
                break;
            }
        }
        v.expect_size(size);
        v.report()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chain(5);
        let r = check(&rows, 5);
        assert!(r.ok);
        assert_eq!((r.entries, r.head_seq, r.first_bad_seq), (5, 5, None));
        assert_eq!(r.head_hash, rows[4].hash);
    }

    #[test]
    fn each_kind_of_rewrite_names_the_first_bad_seq() {
        let mut altered = chain(5);
        altered[2].change = r#"{"n":99}"#.into();
        assert_eq!(check(&altered, 5).first_bad_seq, Some(3));

        let mut retimed = chain(5);
        retimed[1].at = "2030-01-01T00:00:00.000000Z".into();
        assert_eq!(check(&retimed, 5).first_bad_seq, Some(2));

        let mut deleted = chain(5);
        deleted.remove(3);
        assert_eq!(check(&deleted, 5).first_bad_seq, Some(4));

        let mut swapped = chain(5);
        swapped.swap(1, 2);
        assert_eq!(check(&swapped, 5).first_bad_seq, Some(2));

        let truncated = chain(3);
        assert_eq!(check(&truncated, 5).first_bad_seq, Some(4));
    }
}
