//! Issuing and storing signed checkpoints.

use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::merkle::{self, Hash};
use super::signing::{Checkpoint, LedgerKeys, SignedTree};
use super::{Row, chain};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::schema::{checkpoints, ledger};

#[derive(Queryable, Insertable, Selectable)]
#[diesel(table_name = checkpoints)]
struct CheckpointRow {
    size: i64,
    root_hash: String,
    signed_at: String,
    key_id: String,
    signature: String,
}

impl From<CheckpointRow> for Checkpoint {
    fn from(r: CheckpointRow) -> Self {
        Checkpoint {
            size: r.size,
            root_hash: r.root_hash,
            signed_at: r.signed_at,
            key_id: r.key_id,
            signature: r.signature,
        }
    }
}

/// Every checkpoint, smallest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Checkpoint>> {
    let rows: Vec<CheckpointRow> = checkpoints::table
        .order(checkpoints::size.asc())
        .select(CheckpointRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Checkpoint::from).collect())
}

/// Checkpoints of size greater than `after`, at most `limit`.
pub fn page(conn: &mut DbConn, after: i64, limit: i64) -> QueryResult<Vec<Checkpoint>> {
    let rows: Vec<CheckpointRow> = checkpoints::table
        .filter(checkpoints::size.gt(after))
        .order(checkpoints::size.asc())
        .limit(limit)
        .select(CheckpointRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Checkpoint::from).collect())
}

pub fn latest(conn: &mut DbConn) -> QueryResult<Option<Checkpoint>> {
    let row: Option<CheckpointRow> = checkpoints::table
        .order(checkpoints::size.desc())
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Checkpoint::from))
}

pub fn at_size(conn: &mut DbConn, size: i64) -> QueryResult<Option<Checkpoint>> {
    let row: Option<CheckpointRow> = checkpoints::table
        .find(size)
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Checkpoint::from))
}

/// The stored leaf hashes of entries `1..=size`.
pub fn leaf_hashes(conn: &mut DbConn, size: i64) -> Result<Vec<Hash>, ApiError> {
    let stored: Vec<String> = ledger::table
        .filter(ledger::seq.le(size))
        .order(ledger::seq.asc())
        .select(ledger::leaf_hash)
        .load(conn)?;
    if stored.len() as i64 != size {
        return Err(ApiError::Internal(format!(
            "the ledger has {} of {size} entries",
            stored.len()
        )));
    }
    stored
        .iter()
        .map(|h| hex::decode(h).ok().and_then(|b| <Hash>::try_from(b).ok()))
        .collect::<Option<Vec<Hash>>>()
        .ok_or_else(|| ApiError::Internal("a stored leaf hash is malformed".into()))
}

/// The latest checkpoint, issuing a new one first when the head has moved past it.
///
/// The service never signs a history rewritten since it last signed: entries after the tree it
/// last signed or checked are re-hashed from their content and must chain on from that tree's
/// last hash, and on a node's first checkpoint the whole log is checked against the latest
/// signed tree head. Only entries newer than what this node already checked are read, so
/// signing stays cheap however long the ledger grows.
pub fn issue(conn: &mut DbConn, keys: &LedgerKeys) -> Result<Checkpoint, ApiError> {
    let (head, _, _) = super::head(conn)?;
    let last = latest(conn)?;
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
    let newer: Vec<Row> = ledger::table
        .filter(ledger::seq.gt(tree.size))
        .filter(ledger::seq.le(head))
        .order(ledger::seq.asc())
        .select(Row::as_select())
        .load(conn)?;
    for row in &newer {
        let bytes = chain::leaf_bytes(row);
        let intact = row.seq == tree.size + 1
            && row.prev_hash == tree.last_hash
            && bytes.as_deref().map(chain::sha256_hex).as_deref() == Some(row.hash.as_str());
        let Some(bytes) = bytes.filter(|_| intact) else {
            return Err(ApiError::Internal(format!(
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
            return Err(ApiError::Internal(format!(
                "refusing to sign: the ledger no longer matches checkpoint {}",
                cp.size
            )));
        }
    }
    if tree.size != head {
        return Err(ApiError::Internal(
            "refusing to sign: the ledger has a gap".into(),
        ));
    }
    let cp = keys.sign(
        head,
        &hex::encode(tree.frontier.root()),
        crate::time::format(crate::time::now()),
    );
    let row = CheckpointRow {
        size: cp.size,
        root_hash: cp.root_hash.clone(),
        signed_at: cp.signed_at.clone(),
        key_id: cp.key_id.clone(),
        signature: cp.signature.clone(),
    };
    let stored = match diesel::insert_into(checkpoints::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => cp,
        // Another node signed the same size first: theirs stands.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => at_size(conn, head)?.ok_or(ApiError::NotFound)?,
        Err(e) => return Err(e.into()),
    };
    *memo = Some(tree);
    Ok(stored)
}

/// The tree of the latest checkpoint, rebuilt from the stored leaf hashes and checked against it.
fn checked_prefix(conn: &mut DbConn, last: Option<&Checkpoint>) -> Result<SignedTree, ApiError> {
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
        return Err(ApiError::Internal(format!(
            "refusing to sign: the ledger no longer matches checkpoint {}",
            cp.size
        )));
    }
    let last_hash: String = ledger::table
        .find(cp.size)
        .select(ledger::hash)
        .first(conn)?;
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
            let signed = latest(&mut conn)?.map_or(0, |c| c.size);
            Ok(head > signed
                && (head - signed >= schedule.every_entries
                    || last_signed.elapsed() >= schedule.every))
        })();
        if let Ok(true) = due {
            match crate::db::write_tx(&mut conn, |c| issue(c, &keys)) {
                Ok(cp) => tracing::info!(size = cp.size, "checkpoint signed"),
                Err(e) => tracing::warn!(error = %e, "checkpoint not signed"),
            }
            last_signed = Instant::now();
        }
    }
}
