//! Witnesses: independent parties who cosign a checkpoint (C2SP `tlog-cosignature`,
//! cosignature/v1) only once they have checked it is consistent with the last one they cosigned.
//! The service stores what they send, beside the checkpoint, and serves it with it; a history
//! rewritten after a witness cosigned no longer carries a valid cosignature by that witness.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::merkle::{self, Hash};
use super::note::{self, Verifier};
use super::signing::{Checkpoint, LedgerKeys};
use super::store::checkpoint_at;
use crate::db::DbConn;
use crate::error::DomainError;
use crate::schema::cosignatures;

/// One witness's cosignature of one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"witness": "auditor.example/w1",
    "witness_key": "auditor.example/w1+8a1b2c3d+BL0Lq5v6…", "timestamp": 1796169600,
    "signature_line": "— auditor.example/w1 ilsyOQAAAABrDVh…", "received_at": "2026-12-02T10:00:00.000000Z"}))]
pub struct Cosignature {
    /// The witness's name (its key's name).
    pub witness: String,
    /// The witness's verifier key, `name+hash+base64(0x04 ‖ Ed25519 key)`.
    pub witness_key: String,
    /// When the witness cosigned (seconds since the Unix epoch), as it signed it.
    pub timestamp: i64,
    /// The C2SP note signature line, `— <name> base64(key hash ‖ timestamp ‖ signature)`.
    pub signature_line: String,
    /// When the service received it (RFC 3339, UTC).
    #[serde(default)]
    pub received_at: String,
}

/// A stored row, in the table's column order.
#[derive(Queryable)]
struct Stored {
    checkpoint_size: i64,
    witness_key: String,
    witness: String,
    timestamp: i64,
    signature_line: String,
    received_at: String,
    _received_from: String,
}

impl From<Stored> for Cosignature {
    fn from(r: Stored) -> Self {
        Cosignature {
            witness: r.witness,
            witness_key: r.witness_key,
            timestamp: r.timestamp,
            signature_line: r.signature_line,
            received_at: r.received_at,
        }
    }
}

/// Checks `line` as `witness_key`'s cosignature of the checkpoint of `size` and stores it.
/// `Ok((cosignature, false))` when that witness had already cosigned that checkpoint: the first
/// one stands.
pub fn record(
    conn: &mut DbConn,
    keys: &LedgerKeys,
    from: &str,
    size: i64,
    witness_key: &str,
    line: &str,
) -> Result<(Cosignature, bool), DomainError> {
    let witness = Verifier::parse(witness_key)
        .filter(|v| v.witness)
        .ok_or_else(|| {
            DomainError::field(
                "witness_key",
                "is not a cosignature/v1 verifier key (name+hash+base64 of 0x04 and the key)",
            )
        })?;
    let cp = checkpoint_at(conn, size)?
        .ok_or_else(|| DomainError::field("checkpoint_size", "no checkpoint has this size"))?;
    let text = keys
        .note_text(&cp)
        .ok_or_else(|| DomainError::Internal("a stored root hash is not 32 bytes".into()))?;
    let timestamp = note::verify_cosignature(&text, line, &witness).ok_or_else(|| {
        DomainError::field(
            "signature_line",
            format!("is not a valid cosignature/v1 by this key of the checkpoint of size {size}"),
        )
    })?;
    let now = crate::time::now();
    if timestamp as i64 > now.timestamp() + 300 {
        return Err(DomainError::field(
            "signature_line",
            "is timestamped more than five minutes in the future",
        ));
    }
    let cosignature = Cosignature {
        witness: witness.name.clone(),
        witness_key: witness.text(),
        timestamp: timestamp as i64,
        signature_line: line.trim_end().to_owned(),
        received_at: crate::time::format(now),
    };
    let stored = cosignatures::table
        .find((size, &cosignature.witness_key))
        .select(cosignatures::all_columns)
        .first::<Stored>(conn)
        .optional()?;
    if let Some(existing) = stored {
        return Ok((existing.into(), false));
    }
    diesel::insert_into(cosignatures::table)
        .values((
            cosignatures::checkpoint_size.eq(size),
            cosignatures::witness_key.eq(&cosignature.witness_key),
            cosignatures::witness.eq(&cosignature.witness),
            cosignatures::timestamp.eq(cosignature.timestamp),
            cosignatures::signature_line.eq(&cosignature.signature_line),
            cosignatures::received_at.eq(&cosignature.received_at),
            cosignatures::received_from.eq(from),
        ))
        .execute(conn)?;
    Ok((cosignature, true))
}

/// The cosignatures of the checkpoints of `sizes`, oldest first for each.
pub fn of(conn: &mut DbConn, sizes: &[i64]) -> QueryResult<BTreeMap<i64, Vec<Cosignature>>> {
    let rows: Vec<Stored> = cosignatures::table
        .filter(cosignatures::checkpoint_size.eq_any(sizes))
        .order((cosignatures::checkpoint_size, cosignatures::received_at))
        .select(cosignatures::all_columns)
        .load(conn)?;
    let mut out: BTreeMap<i64, Vec<Cosignature>> = BTreeMap::new();
    for row in rows {
        out.entry(row.checkpoint_size).or_default().push(row.into());
    }
    Ok(out)
}

/// `checkpoints` with their cosignatures attached.
pub fn attach(conn: &mut DbConn, mut checkpoints: Vec<Checkpoint>) -> QueryResult<Vec<Checkpoint>> {
    let sizes: Vec<i64> = checkpoints.iter().map(|c| c.size).collect();
    let mut all = BTreeMap::new();
    for chunk in sizes.chunks(500) {
        all.extend(of(conn, chunk)?);
    }
    for cp in &mut checkpoints {
        cp.cosignatures = all.remove(&cp.size).unwrap_or_default();
    }
    Ok(checkpoints)
}

/// Which checkpoints carry valid cosignatures, and by whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Witnessed {
    /// Each checkpoint with at least one valid cosignature: its size and the witnesses' names.
    pub checkpoints: Vec<WitnessedCheckpoint>,
    /// The largest checkpoint size cosigned by at least `min_witnesses` witnesses (0: none).
    pub witnessed_size: i64,
    pub min_witnesses: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WitnessedCheckpoint {
    pub size: i64,
    pub witnesses: Vec<String>,
}

/// Checks the cosignatures carried by `checkpoints` (notes under `origin`). With `trusted`,
/// only those witnesses count, and a cosignature by one of them that does not verify is a
/// problem (the checkpoint it vouched for was replaced); without, every witness key carried is
/// checked against its own cosignature. Returns what is witnessed and the problems found.
pub fn check(
    checkpoints: &[Checkpoint],
    origin: &str,
    trusted: Option<&[Verifier]>,
    min_witnesses: usize,
) -> (Witnessed, Vec<String>) {
    let mut witnessed = Witnessed {
        min_witnesses,
        ..Default::default()
    };
    let mut problems = Vec::new();
    for cp in checkpoints {
        let Some(root) = hex::decode(&cp.root_hash)
            .ok()
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
        else {
            continue;
        };
        let text = note::checkpoint_text(origin, cp.size, &root);
        let mut names: Vec<String> = Vec::new();
        for c in &cp.cosignatures {
            let key = match trusted {
                Some(trusted) => trusted.iter().find(|t| t.text() == c.witness_key).cloned(),
                None => Verifier::parse(&c.witness_key).filter(|v| v.witness),
            };
            let Some(key) = key else { continue };
            match note::verify_cosignature(&text, &c.signature_line, &key) {
                Some(t) if t as i64 == c.timestamp => {
                    if !names.contains(&key.name) {
                        names.push(key.name.clone());
                    }
                }
                _ => problems.push(format!(
                    "the cosignature by witness {} of the checkpoint of size {} does not verify: \
                     the checkpoint it vouched for is not this one",
                    key.name, cp.size
                )),
            }
        }
        if names.len() >= min_witnesses.max(1) {
            witnessed.witnessed_size = witnessed.witnessed_size.max(cp.size);
        }
        if !names.is_empty() {
            witnessed.checkpoints.push(WitnessedCheckpoint {
                size: cp.size,
                witnesses: names,
            });
        }
    }
    (witnessed, problems)
}

/// Whether a witness that cosigned the tree `(old_size, old_root)` may cosign `(size, root)`:
/// never a smaller tree (a rollback), never another root at the same size (a fork), and a
/// larger tree only with a consistency proof from the root the witness holds. The reason in
/// words when not.
pub fn extends(
    (old_size, old_root): (i64, &Hash),
    (size, root): (i64, &Hash),
    proof: Option<&[Hash]>,
) -> Result<(), String> {
    if size < old_size {
        return Err(format!(
            "refusing to cosign: the log now shows {size} entries, but this witness cosigned \
             {old_size} (a rollback)"
        ));
    }
    if size == old_size {
        return if root == old_root {
            Ok(())
        } else {
            Err(format!(
                "refusing to cosign: a fork: the checkpoint of size {size} has another root than \
                 the one this witness cosigned"
            ))
        };
    }
    let consistent = proof.is_some_and(|p| {
        merkle::verify_consistency(old_size as u64, size as u64, p, old_root, root)
    });
    if consistent {
        Ok(())
    } else {
        Err(format!(
            "refusing to cosign: a fork: the checkpoint of size {size} does not extend the one \
             of size {old_size} this witness cosigned"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::merkle::{consistency_proof, leaf_hash, root};

    #[test]
    fn a_witness_cosigns_only_a_tree_that_extends_the_one_it_cosigned() {
        let leaves: Vec<Hash> = (0u8..20).map(|i| leaf_hash(&[i])).collect();
        let (old, new) = (root(&leaves[..7]), root(&leaves));
        let proof = consistency_proof(7, &leaves);
        assert_eq!(extends((7, &old), (20, &new), Some(&proof)), Ok(()));
        assert_eq!(extends((7, &old), (7, &old), None), Ok(()));
        // The same size, another root: a fork.
        let fork = extends((7, &old), (7, &new), None).unwrap_err();
        assert!(fork.contains("fork"), "{fork}");
        // A rewritten history: its proof does not lead from the root the witness holds.
        let mut rewritten = leaves.clone();
        rewritten[3] = leaf_hash(b"forged");
        let forged_proof = consistency_proof(7, &rewritten);
        let err = extends((7, &old), (20, &root(&rewritten)), Some(&forged_proof)).unwrap_err();
        assert!(err.contains("does not extend"), "{err}");
        assert!(
            extends((7, &old), (20, &new), None).is_err(),
            "no proof, no cosignature"
        );
        let back = extends((20, &new), (7, &old), None).unwrap_err();
        assert!(back.contains("rollback"), "{back}");
    }
}
