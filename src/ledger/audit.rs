//! Whole-log verification, shared by `GET /v1/audit/verify` and the offline
//! `vendor-registry audit verify`: the hash chain, then every signed checkpoint.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;

use super::Row;
use super::chain::{Verifier, VerifyReport, leaf_bytes};
use super::merkle::{Frontier, Hash, leaf_hash};
use super::signing::{Checkpoint, verify_checkpoint};

/// What a row's content hashes to, computed from its canonical bytes: the entry hash (hex) and
/// the RFC 9162 leaf hash; both `None` when its content is not JSON. Independent of every other
/// row, so it may be computed anywhere and in any order; the checks stay in `seq` order.
#[derive(Debug, Clone)]
pub struct Hashed {
    hash: Option<String>,
    leaf: Option<Hash>,
}

impl Hashed {
    pub fn of(row: &Row) -> Hashed {
        Hashed::of_bytes(leaf_bytes(row))
    }

    /// The hashes of canonical bytes (`None`: the content was not JSON).
    pub fn of_bytes(canonical: Option<Vec<u8>>) -> Hashed {
        Hashed {
            hash: canonical.as_deref().map(super::chain::sha256_hex),
            leaf: canonical.map(|b| leaf_hash(&b)),
        }
    }
}

/// Feed rows in `seq` order with [`Auditor::push`], then [`Auditor::finish`].
pub struct Auditor<'k> {
    chain: Verifier,
    keys: &'k [VerifyingKey],
    checkpoints: Vec<Checkpoint>,
    /// Merkle roots of the log as it stands, at each checkpoint size.
    computed: Frontier,
    computed_roots: BTreeMap<i64, String>,
    /// The same from the leaf hashes stored beside each entry when it was written, which locate
    /// an entry rewritten together with every later hash.
    stored: Frontier,
    stored_roots: BTreeMap<i64, String>,
    stored_usable: bool,
    first_leaf_mismatch: Option<i64>,
    problems: Vec<String>,
}

impl<'k> Auditor<'k> {
    pub fn new(mut checkpoints: Vec<Checkpoint>, keys: &'k [VerifyingKey]) -> Auditor<'k> {
        checkpoints.sort_by_key(|c| c.size);
        Auditor {
            chain: Verifier::default(),
            keys,
            checkpoints,
            computed: Frontier::default(),
            computed_roots: BTreeMap::new(),
            stored: Frontier::default(),
            stored_roots: BTreeMap::new(),
            stored_usable: true,
            first_leaf_mismatch: None,
            problems: Vec::new(),
        }
    }

    /// For a partial log that starts at `seq`, trusting its first `prev_hash`; no checkpoints.
    pub fn starting_at(seq: i64, prev_hash: &str, keys: &'k [VerifyingKey]) -> Auditor<'k> {
        let mut a = Auditor::new(Vec::new(), keys);
        a.chain = Verifier::starting_at(seq, prev_hash);
        a.stored_usable = false;
        a
    }

    fn wanted(&self, size: i64) -> bool {
        self.checkpoints
            .binary_search_by_key(&size, |c| c.size)
            .is_ok()
    }

    /// Checks the next row. `stored_leaf` is the leaf hash kept with it, when there is one.
    pub fn push(&mut self, row: &Row, stored_leaf: Option<&str>) {
        self.push_hashed(row, &Hashed::of(row), stored_leaf);
    }

    /// [`Auditor::push`] with the row's hashes already computed (on another thread).
    pub fn push_hashed(&mut self, row: &Row, hashed: &Hashed, stored_leaf: Option<&str>) {
        if !self.chain.push_hashed(row, hashed.hash.as_deref()) && self.problems.is_empty() {
            self.problems
                .push(format!("the hash chain breaks at seq {}", row.seq));
        }
        let computed = hashed.leaf.unwrap_or([0u8; 32]);
        self.computed.push(computed);
        let stored = stored_leaf
            .and_then(|s| hex::decode(s).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        match stored {
            Some(s) => {
                if s != computed && self.first_leaf_mismatch.is_none() {
                    self.first_leaf_mismatch = Some(self.computed.size() as i64);
                }
                self.stored.push(s);
            }
            None => self.stored_usable = false,
        }
        let size = self.computed.size() as i64;
        if self.wanted(size) {
            self.computed_roots
                .insert(size, hex::encode(self.computed.root()));
            if self.stored_usable {
                self.stored_roots
                    .insert(size, hex::encode(self.stored.root()));
            }
        }
    }

    /// How many rows were read.
    pub fn checked(&self) -> i64 {
        self.computed.size() as i64
    }

    /// The report: the chain's verdict, then each checkpoint's. `head_size` is what the log's
    /// own head record says its length is, when known.
    pub fn finish(mut self, head_size: Option<i64>) -> VerifyReport {
        let entries = self.checked();
        if let Some(head) = head_size
            && head > entries
        {
            self.chain.expect_size(head);
            self.problems.push(format!(
                "the head records {head} entries, the log has {entries}"
            ));
        }
        // The leaf hashes stored beside the entries are what older proofs were built from: one
        // that its entry does not bear out is a defect of its own, whatever the checkpoints say.
        if let Some(seq) = self.first_leaf_mismatch {
            self.chain.mark_bad(seq);
            self.problems.push(format!(
                "the stored leaf hash of entry {seq} does not match the entry"
            ));
        }
        let mut last_good = 0i64;
        for cp in &self.checkpoints {
            if !verify_checkpoint(cp, self.keys) {
                self.problems.push(format!(
                    "the checkpoint of size {} has no valid signature",
                    cp.size
                ));
                continue;
            }
            if cp.size > entries {
                self.chain.mark_bad(entries + 1);
                self.problems.push(format!(
                    "the log has {entries} entries; a signed checkpoint has {}",
                    cp.size
                ));
                continue;
            }
            if self.computed_roots.get(&cp.size) == Some(&cp.root_hash) {
                last_good = cp.size;
                continue;
            }
            let located = if self.stored_roots.get(&cp.size) == Some(&cp.root_hash) {
                // The stored leaf hashes are the signed ones: the first that differs is exact.
                self.first_leaf_mismatch
            } else {
                // Otherwise the lowest anomaly seen in this checkpoint's range, if any.
                [self.chain.first_bad(), self.first_leaf_mismatch]
                    .into_iter()
                    .flatten()
                    .filter(|s| *s > last_good && *s <= cp.size)
                    .min()
            };
            let bad = located.unwrap_or(last_good + 1);
            self.chain.mark_bad(bad);
            self.problems.push(format!(
                "the first {} entries do not match the signed checkpoint of that size",
                cp.size
            ));
        }
        let mut report = self.chain.report();
        report.entries = entries;
        report.checkpoints_checked = self.checkpoints.len() as i64;
        if !self.problems.is_empty() {
            report.ok = false;
        }
        report.problems = self.problems;
        report
    }
}
