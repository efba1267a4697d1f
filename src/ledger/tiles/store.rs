//! The `ledger_tiles` table: full tiles written once, partial tiles grown in place (the
//! migration's triggers refuse anything else).

use diesel::prelude::*;

use super::edge::{Edge, Tile};
use super::proofs::TileReader;
use super::{WIDTH, from_bytes, to_bytes};
use crate::db::DbConn;
use crate::error::DomainError;
use crate::ledger::merkle::Hash;
use crate::schema::ledger_tiles;

fn broken(what: String) -> DomainError {
    DomainError::LedgerIntegrity(what)
}

/// The hashes stored for tile `(level, index)`, as many as it has so far.
pub fn get(conn: &mut DbConn, level: u8, index: u64) -> Result<Option<Vec<Hash>>, DomainError> {
    let row: Option<(i32, Vec<u8>)> = ledger_tiles::table
        .find((i32::from(level), index as i64))
        .select((ledger_tiles::width, ledger_tiles::hashes))
        .first(conn)
        .optional()?;
    let Some((width, bytes)) = row else {
        return Ok(None);
    };
    match from_bytes(&bytes) {
        Some(hashes) if hashes.len() == width as usize => Ok(Some(hashes)),
        _ => Err(broken(format!(
            "the stored tile {level}/{index} is malformed"
        ))),
    }
}

/// Stores `tile`, or grows the stored prefix of it. A stored tile that is not a prefix of the
/// new one means an entry it covers was changed after it was tiled: nothing is written.
pub fn put(conn: &mut DbConn, (level, index, hashes): &Tile) -> Result<(), DomainError> {
    let key = (i32::from(*level), *index as i64);
    match get(conn, *level, *index)? {
        None => {
            diesel::insert_into(ledger_tiles::table)
                .values((
                    ledger_tiles::level.eq(key.0),
                    ledger_tiles::idx.eq(key.1),
                    ledger_tiles::width.eq(hashes.len() as i32),
                    ledger_tiles::hashes.eq(to_bytes(hashes)),
                ))
                .execute(conn)?;
        }
        Some(stored) => {
            let common = stored.len().min(hashes.len());
            if let Some(at) = (0..common).find(|&i| stored[i] != hashes[i]) {
                return Err(broken(format!(
                    "the tree no longer matches its stored tile {level}/{index} at position {at}"
                )));
            }
            if hashes.len() > stored.len() {
                diesel::update(ledger_tiles::table.find(key))
                    .set((
                        ledger_tiles::width.eq(hashes.len() as i32),
                        ledger_tiles::hashes.eq(to_bytes(hashes)),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Reads tiles from the database (for `proofs::FromTiles`).
pub struct Db<'c>(pub &'c mut DbConn);

impl TileReader for Db<'_> {
    fn tile(&mut self, level: u8, index: u64) -> Result<Option<Vec<Hash>>, DomainError> {
        get(self.0, level, index)
    }
}

/// Whether the stored tiles hold the first `size` leaves.
pub fn covers(conn: &mut DbConn, size: u64) -> Result<bool, DomainError> {
    if size == 0 {
        return Ok(true);
    }
    let last = size - 1;
    let needed = (last % WIDTH as u64) as usize + 1;
    Ok(get(conn, 0, last / WIDTH as u64)?.is_some_and(|t| t.len() >= needed))
}

/// The edge of the tree of `size` leaves, from the stored tiles (which must cover it).
pub fn edge_at(conn: &mut DbConn, size: u64) -> Result<Edge, DomainError> {
    let mut levels = Vec::new();
    for (level, index, width) in Edge::partials(size) {
        let hashes = get(conn, level, index)?
            .filter(|h| h.len() >= width)
            .ok_or_else(|| broken(format!("the stored tile {level}/{index} is missing")))?;
        levels.resize(level as usize + 1, Vec::new());
        levels[level as usize] = hashes[..width].to_vec();
    }
    Ok(Edge::new(size, levels))
}

/// Writes what `edge` made since it was loaded: its full tiles, then its partial ones.
pub fn save(conn: &mut DbConn, edge: &mut Edge) -> Result<(), DomainError> {
    for tile in edge.take_full().iter().chain(edge.partial_tiles().iter()) {
        put(conn, tile)?;
    }
    Ok(())
}
