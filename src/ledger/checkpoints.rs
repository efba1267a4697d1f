//! Issuing and storing signed checkpoints.

use std::time::{Duration, Instant};

use diesel::QueryResult;

use super::chain;
use super::merkle;
use super::signing::{Checkpoint, LedgerKeys, SignedTree};
use super::store::{
    between, checkpoint_at, hash_at, insert_checkpoint, latest_checkpoint, leaf_hashes,
};
use crate::db::DbConn;
use crate::error::DomainError;

/// The latest checkpoint, issuing a new one first when the head has moved past it.
///
/// The service never signs a history rewritten since it last signed: entries after the tree it
/// last signed or checked are re-hashed from their content and must chain on from that tree's
/// last hash, and on a node's first checkpoint the whole log is checked against the latest
/// signed tree head. Only entries newer than what this node already checked are read, so
/// signing stays cheap however long the ledger grows.
/// A successful check clears the node's integrity alarm; a refusal is a `LedgerIntegrity` error,
/// which whoever surfaces it records once (`Integrity::fail`).
pub fn issue(conn: &mut DbConn, keys: &LedgerKeys) -> Result<Checkpoint, DomainError> {
    let cp = sign_new(conn, keys)?;
    keys.integrity.pass();
    Ok(cp)
}

/// Signs a checkpoint when `every` or more entries are unsigned, inside the caller's write
/// transaction: checkpoints come at least every `every` entries on the write path itself.
pub fn sign_if_due(conn: &mut DbConn, keys: &LedgerKeys, every: i64) -> Result<(), DomainError> {
    let (head, _, _) = super::head(conn)?;
    let signed = latest_checkpoint(conn)?.map_or(0, |c| c.size);
    if head - signed >= every {
        issue(conn, keys)?;
    }
    Ok(())
}

fn sign_new(conn: &mut DbConn, keys: &LedgerKeys) -> Result<Checkpoint, DomainError> {
    let (head, _, _) = super::head(conn)?;
    let last = latest_checkpoint(conn)?;
    if let Some(cp) = &last
        && cp.size >= head
    {
        return Ok(cp.clone());
    }
    let signed_size = last.as_ref().map_or(0, |c| c.size);
    let mut memo = keys.signed.lock();
    let known = match memo.take() {
        Some(tree) if tree.size <= signed_size => tree,
        _ => checked_prefix(conn, last.as_ref())?,
    };
    let mut tree = known;
    let newer = between(conn, tree.size, head)?;
    let mut links = chain::Verifier::starting_at(tree.size + 1, &tree.last_hash);
    for row in &newer {
        let bytes = chain::leaf_bytes(row);
        let Some(bytes) = bytes.filter(|b| links.push_canonical(row, Some(b))) else {
            return Err(DomainError::LedgerIntegrity(format!(
                "refusing to sign: entry {} does not chain on",
                row.seq
            )));
        };
        tree.frontier.push(merkle::leaf_hash(&bytes));
        tree.size = row.seq;
        tree.last_hash = row.hash.clone();
        if let Some(cp) = &last
            && tree.size == cp.size
            && hex::encode(tree.frontier.root()) != cp.root_hash
        {
            return Err(DomainError::LedgerIntegrity(format!(
                "refusing to sign: the ledger no longer matches checkpoint {}",
                cp.size
            )));
        }
    }
    if tree.size != head {
        return Err(DomainError::LedgerIntegrity(
            "refusing to sign: the ledger has a gap".into(),
        ));
    }
    let cp = keys.sign(
        head,
        &hex::encode(tree.frontier.root()),
        crate::time::format(crate::time::now()),
    );
    let stored = if insert_checkpoint(conn, &cp)? {
        cp
    } else {
        // Another node signed the same size first: theirs stands.
        checkpoint_at(conn, head)?.ok_or(DomainError::NotFound)?
    };
    *memo = Some(tree);
    Ok(stored)
}

/// The tree of the latest checkpoint, rebuilt from the stored leaf hashes and checked against it.
fn checked_prefix(conn: &mut DbConn, last: Option<&Checkpoint>) -> Result<SignedTree, DomainError> {
    let Some(cp) = last else {
        return Ok(SignedTree {
            size: 0,
            last_hash: super::GENESIS_HASH.into(),
            frontier: merkle::Frontier::default(),
        });
    };
    let mut frontier = merkle::Frontier::default();
    for leaf in leaf_hashes(conn, cp.size)? {
        frontier.push(leaf);
    }
    if hex::encode(frontier.root()) != cp.root_hash {
        return Err(DomainError::LedgerIntegrity(format!(
            "refusing to sign: the ledger no longer matches checkpoint {}",
            cp.size
        )));
    }
    let last_hash = hash_at(conn, cp.size)?;
    Ok(SignedTree {
        size: cp.size,
        last_hash,
        frontier,
    })
}

/// When to sign on its own: every `every_entries` new entries or `every` time, if the head moved.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub every_entries: i64,
    pub every: Duration,
}

/// Signs checkpoints on `schedule` until the process ends (runs on its own thread).
pub fn run_periodic(pool: crate::db::Pool, keys: std::sync::Arc<LedgerKeys>, schedule: Schedule) {
    let mut last_signed = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let Ok(mut conn) = pool.get() else { continue };
        let due = (|| -> QueryResult<bool> {
            let (head, _, _) = super::head(&mut conn)?;
            let signed = latest_checkpoint(&mut conn)?.map_or(0, |c| c.size);
            Ok(head > signed
                && (head - signed >= schedule.every_entries
                    || last_signed.elapsed() >= schedule.every))
        })();
        if let Ok(true) = due {
            match crate::db::write_tx(&mut conn, |c| issue(c, &keys)) {
                Ok(cp) => tracing::info!(size = cp.size, "checkpoint signed"),
                Err(DomainError::LedgerIntegrity(problem)) => keys.integrity.fail(&problem),
                Err(e) => tracing::warn!(error = %e, "checkpoint not signed"),
            }
            last_signed = Instant::now();
        }
    }
}
