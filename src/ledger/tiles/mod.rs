//! The Merkle tree as C2SP `tlog-tiles`: tiles of height 8, each up to 256 consecutive hashes
//! of one tree level, so any proof or tree head reads O(log n) hashes however long the ledger
//! grows. Level 0 holds the leaf hashes; level L the roots of the subtrees of 256^L leaves.
//! A full tile never changes; the partial tile at the right edge of a level is a prefix of the
//! full tile it becomes.
//!
//! `edge` grows the tree (what signing writes), `proofs` reads it (RFC 9162 proofs over any
//! source of subtree hashes), `store` keeps the tiles.

pub mod edge;
pub mod proofs;
pub mod store;

use super::merkle::{Hash, node_hash};

/// Hashes in a full tile.
pub const WIDTH: usize = 256;
/// Tree levels in a tile.
pub const HEIGHT: u32 = 8;

/// A tile's place (`level`, `index`) and width (1–256), as its C2SP path names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId {
    pub level: u8,
    pub index: u64,
    pub width: u16,
}

impl TileId {
    /// The path below `tile/`: `<L>/<N>[.p/<W>]`, N in groups of three digits, each but the
    /// last prefixed with `x` (`1234067` is `x001/x234/067`).
    pub fn path(&self) -> String {
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        let mut out = format!("{}/", self.level);
        for (i, g) in groups.iter().rev().enumerate() {
            if i + 1 < groups.len() {
                out.push_str(&format!("x{g:03}/"));
            } else {
                out.push_str(&format!("{g:03}"));
            }
        }
        if (self.width as usize) < WIDTH {
            out.push_str(&format!(".p/{}", self.width));
        }
        out
    }

    /// Reads a path back; `None` for anything that is not exactly one tile's canonical path.
    pub fn parse(path: &str) -> Option<TileId> {
        let (level, rest) = path.split_once('/')?;
        if level.is_empty() || level.len() > 2 || !level.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let level: u8 = level.parse().ok().filter(|l| *l < 8)?;
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let valid = !width.is_empty()
                    && !width.starts_with('0')
                    && width.len() <= 3
                    && width.bytes().all(|b| b.is_ascii_digit());
                let w: u16 = width
                    .parse()
                    .ok()
                    .filter(|w| valid && (1..256).contains(w))?;
                (index, w)
            }
            None => (rest, WIDTH as u16),
        };
        let groups: Vec<&str> = index.split('/').collect();
        let mut n: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() {
                g.strip_prefix('x')?
            } else {
                g
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            n = n.checked_mul(1000)?.checked_add(digits.parse().ok()?)?;
        }
        let id = TileId {
            level,
            index: n,
            width,
        };
        // One spelling per tile: no leading `x000/` groups.
        (id.path() == path).then_some(id)
    }
}

/// The root of a perfect subtree over `hashes` (a power of two of them).
pub fn fold(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    level[0]
}

/// Hashes as the bytes a tile is served as (32 bytes each, in order), and back.
pub fn to_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flatten().copied().collect()
}

pub fn from_bytes(bytes: &[u8]) -> Option<Vec<Hash>> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(32) || bytes.len() > 32 * WIDTH {
        return None;
    }
    Some(
        bytes
            .chunks(32)
            .map(|c| c.try_into().expect("32-byte chunks"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_follow_the_c2sp_spelling_both_ways() {
        let cases = [
            (0, 0, 256, "0/000"),
            (0, 1234067, 256, "0/x001/x234/067"),
            (1, 5, 7, "1/005.p/7"),
            (2, 1000, 255, "2/x001/000.p/255"),
        ];
        for (level, index, width, path) in cases {
            let id = TileId {
                level,
                index,
                width,
            };
            assert_eq!(id.path(), path);
            assert_eq!(TileId::parse(path), Some(id));
        }
        for bad in [
            "0/0",
            "0/x000/001",
            "0/001.p/0",
            "0/001.p/256",
            "0/001.p/07",
            "8/000",
            "00/000",
            "0/001/",
            "0/y001/002",
            "entries/000",
            "0/001.p/",
            "-1/000",
        ] {
            assert_eq!(TileId::parse(bad), None, "{bad}");
        }
    }
}
