//! Issuing and storing signed checkpoints.

use std::time::{Duration, Instant};

use diesel::QueryResult;

use super::chain;
use super::merkle;
use super::signing::{Checkpoint, LedgerKeys};
use super::store::{
    between, checkpoint_at, entry_at, insert_checkpoint, latest_checkpoint, lock_head,
};
use super::tiles::{self, edge::Edge, proofs::FromTiles};
use crate::db::DbConn;
use crate::error::DomainError;

/// The latest checkpoint, issuing a new one first when the head has moved past it.
///
/// The service never signs a history rewritten since it last signed. The stored tiles must
/// reproduce the latest checkpoint's root; the entry at its size, re-hashed from its content,
/// must be the leaf the tiles hold, and every newer entry is re-hashed from its content and
/// must chain on from it; and each tile they fill or grow must extend the one stored (a tile
/// written before is never contradicted). Signing reads only the entries since the last
/// checkpoint and O(log n) tiles, however long the ledger grows.
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

fn refuse(what: String) -> DomainError {
    DomainError::LedgerIntegrity(format!("refusing to sign: {what}"))
}

/// Entries read per query while signing.
const PAGE: i64 = 1000;

fn sign_new(conn: &mut DbConn, keys: &LedgerKeys) -> Result<Checkpoint, DomainError> {
    // Signers queue behind writers and each other: the head cannot move while a tree is built.
    let (head, _, _) = lock_head(conn)?;
    let last = latest_checkpoint(conn)?;
    if let Some(cp) = &last
        && cp.size >= head
    {
        return Ok(cp.clone());
    }
    let signed = last.as_ref().map_or(0, |c| c.size);
    let (mut edge, mut links) = signed_tree(conn, last.as_ref())?;
    grow(conn, &mut edge, &mut links, signed, head)?;
    tiles::store::save(conn, &mut edge).map_err(as_refusal)?;
    let cp = keys.sign(
        head,
        &hex::encode(edge.root()),
        crate::time::format(crate::time::now()),
    );
    if insert_checkpoint(conn, &cp)? {
        Ok(cp)
    } else {
        checkpoint_at(conn, head)?.ok_or(DomainError::NotFound)
    }
}

fn as_refusal(e: DomainError) -> DomainError {
    match e {
        DomainError::LedgerIntegrity(what) => refuse(what),
        other => other,
    }
}

/// The tree of the latest checkpoint, from the stored tiles and checked against it, and the
/// chain checker positioned after its last entry (whose content must be the leaf signed).
/// Tiles that do not reach it yet (a ledger from before tiles) are built from the entries'
/// content once.
fn signed_tree(
    conn: &mut DbConn,
    last: Option<&Checkpoint>,
) -> Result<(Edge, chain::Verifier), DomainError> {
    let Some(cp) = last else {
        return Ok((Edge::default(), chain::Verifier::default()));
    };
    let size = cp.size as u64;
    if !tiles::store::covers(conn, size)? {
        return build_tiles(conn, cp);
    }
    let edge = tiles::store::edge_at(conn, size)?;
    if hex::encode(edge.root()) != cp.root_hash {
        return Err(refuse(format!(
            "the stored tree no longer matches checkpoint {}",
            cp.size
        )));
    }
    let row =
        entry_at(conn, cp.size)?.ok_or_else(|| refuse(format!("entry {} is missing", cp.size)))?;
    let signed_leaf = FromTiles::new(tiles::store::Db(conn)).leaf(size - 1)?;
    let bytes = chain::leaf_bytes(&row)
        .filter(|b| merkle::leaf_hash(b) == signed_leaf)
        .ok_or_else(|| {
            refuse(format!(
                "entry {} no longer matches checkpoint {}",
                row.seq, cp.size
            ))
        })?;
    let links = chain::Verifier::starting_at(cp.size + 1, &chain::sha256_hex(&bytes));
    Ok((edge, links))
}

/// Builds the tiles of checkpoint `cp` from the entries' content, and checks them against it.
fn build_tiles(conn: &mut DbConn, cp: &Checkpoint) -> Result<(Edge, chain::Verifier), DomainError> {
    let (mut edge, mut links) = (Edge::default(), chain::Verifier::default());
    grow(conn, &mut edge, &mut links, 0, cp.size)?;
    if hex::encode(edge.root()) != cp.root_hash {
        return Err(refuse(format!(
            "the ledger no longer matches checkpoint {}",
            cp.size
        )));
    }
    tiles::store::save(conn, &mut edge).map_err(as_refusal)?;
    Ok((edge, links))
}

/// Pushes entries `after + 1 ..= upto` into `edge`, each re-hashed from its content and
/// required to chain on (`links` checks `seq` too, so the tree ends exactly at `upto`), storing
/// every tile as it fills: memory stays flat however far the head moved.
fn grow(
    conn: &mut DbConn,
    edge: &mut Edge,
    links: &mut chain::Verifier,
    mut after: i64,
    upto: i64,
) -> Result<(), DomainError> {
    while after < upto {
        let rows = between(conn, after, upto.min(after + PAGE))?;
        if rows.is_empty() {
            return Err(refuse(format!("the ledger has a gap after entry {after}")));
        }
        for row in &rows {
            let bytes = chain::leaf_bytes(row);
            let Some(bytes) = bytes.filter(|b| links.push_canonical(row, Some(b))) else {
                return Err(refuse(format!("entry {} does not chain on", row.seq)));
            };
            edge.push(merkle::leaf_hash(&bytes));
        }
        after = rows.last().map_or(after, |r| r.seq);
        for tile in edge.take_full() {
            tiles::store::put(conn, &tile).map_err(as_refusal)?;
        }
    }
    Ok(())
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
