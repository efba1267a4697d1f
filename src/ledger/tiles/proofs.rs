//! RFC 9162 tree hashes, inclusion and consistency proofs over any source of perfect-subtree
//! hashes: the stored tiles in service, a slice of leaves in tests. Each proof asks for
//! O(log n) subtrees, and each subtree comes from one tile.

use std::collections::HashMap;

use super::{HEIGHT, WIDTH, fold};
use crate::error::DomainError;
use crate::ledger::merkle::{Hash, node_hash};

/// Where the hashes of perfect subtrees come from.
pub trait Subtrees {
    /// The root of the perfect subtree of `2^height` leaves starting at leaf
    /// `index * 2^height`.
    fn perfect(&mut self, height: u32, index: u64) -> Result<Hash, DomainError>;
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH of the `n` leaves from `start` (a subtree of the RFC 9162 recursion).
pub fn tree_hash(src: &mut impl Subtrees, start: u64, n: u64) -> Result<Hash, DomainError> {
    if n.is_power_of_two() {
        return src.perfect(n.trailing_zeros(), start >> n.trailing_zeros());
    }
    let k = split(n);
    let left = tree_hash(src, start, k)?;
    let right = tree_hash(src, start + k, n - k)?;
    Ok(node_hash(&left, &right))
}

/// PATH(m, D[start..start+n]).
pub fn inclusion(
    src: &mut impl Subtrees,
    m: u64,
    start: u64,
    n: u64,
) -> Result<Vec<Hash>, DomainError> {
    if n <= 1 {
        return Ok(Vec::new());
    }
    let k = split(n);
    let (mut path, sibling) = if m < k {
        (
            inclusion(src, m, start, k)?,
            tree_hash(src, start + k, n - k)?,
        )
    } else {
        (
            inclusion(src, m - k, start + k, n - k)?,
            tree_hash(src, start, k)?,
        )
    };
    path.push(sibling);
    Ok(path)
}

/// PROOF(m, D[0..n]) (`1 ≤ m ≤ n`; empty when `m == n`).
pub fn consistency(src: &mut impl Subtrees, m: u64, n: u64) -> Result<Vec<Hash>, DomainError> {
    if m == 0 || m >= n {
        return Ok(Vec::new());
    }
    subproof(src, m, 0, n, true)
}

fn subproof(
    src: &mut impl Subtrees,
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
) -> Result<Vec<Hash>, DomainError> {
    if m == n {
        return Ok(if complete {
            Vec::new()
        } else {
            vec![tree_hash(src, start, n)?]
        });
    }
    let k = split(n);
    let (mut path, sibling) = if m <= k {
        (
            subproof(src, m, start, k, complete)?,
            tree_hash(src, start + k, n - k)?,
        )
    } else {
        (
            subproof(src, m - k, start + k, n - k, false)?,
            tree_hash(src, start, k)?,
        )
    };
    path.push(sibling);
    Ok(path)
}

/// Reads a tile: its hashes at `(level, index)`, as many as are stored (`None`: none).
pub trait TileReader {
    fn tile(&mut self, level: u8, index: u64) -> Result<Option<Vec<Hash>>, DomainError>;
}

/// Perfect subtrees from tiles: a subtree of height `8L + r` is the fold of `2^r` hashes of one
/// level-L tile. Each tile is read once per proof.
pub struct FromTiles<R> {
    reader: R,
    cache: HashMap<(u8, u64), Vec<Hash>>,
    /// How many tiles were read (the cost of a proof).
    pub reads: usize,
}

impl<R: TileReader> FromTiles<R> {
    pub fn new(reader: R) -> FromTiles<R> {
        FromTiles {
            reader,
            cache: HashMap::new(),
            reads: 0,
        }
    }

    /// The leaf hash of leaf `index` (0-based), from its level-0 tile.
    pub fn leaf(&mut self, index: u64) -> Result<Hash, DomainError> {
        self.perfect(0, index)
    }
}

impl<R: TileReader> Subtrees for FromTiles<R> {
    fn perfect(&mut self, height: u32, index: u64) -> Result<Hash, DomainError> {
        let (level, r) = ((height / HEIGHT) as u8, height % HEIGHT);
        let first = index << r;
        let (tile, offset) = (first / WIDTH as u64, (first % WIDTH as u64) as usize);
        if !self.cache.contains_key(&(level, tile)) {
            self.reads += 1;
            let hashes = self.reader.tile(level, tile)?.unwrap_or_default();
            self.cache.insert((level, tile), hashes);
        }
        let hashes = &self.cache[&(level, tile)];
        let count = 1usize << r;
        if hashes.len() < offset + count {
            return Err(DomainError::LedgerIntegrity(format!(
                "the stored tree lacks tile {level}/{tile} up to width {}",
                offset + count
            )));
        }
        Ok(fold(&hashes[offset..offset + count]))
    }
}

#[cfg(test)]
mod tests {
    use super::super::edge::Edge;
    use super::*;
    use crate::ledger::merkle::{self, leaf_hash};

    /// Tiles in memory, as signing would have stored them.
    struct Memory(HashMap<(u8, u64), Vec<Hash>>);

    impl TileReader for &Memory {
        fn tile(&mut self, level: u8, index: u64) -> Result<Option<Vec<Hash>>, DomainError> {
            Ok(self.0.get(&(level, index)).cloned())
        }
    }

    fn tiled(leaves: &[Hash]) -> Memory {
        let mut e = Edge::default();
        let mut tiles = HashMap::new();
        for l in leaves {
            e.push(*l);
            for (lv, i, h) in e.take_full() {
                tiles.insert((lv, i), h);
            }
        }
        for (lv, i, h) in e.partial_tiles() {
            tiles.insert((lv, i), h);
        }
        Memory(tiles)
    }

    #[test]
    fn proofs_from_tiles_are_the_reference_proofs() {
        let leaves: Vec<Hash> = (0u32..600).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mem = tiled(&leaves);
        for n in [1u64, 2, 3, 255, 256, 257, 511, 512, 513, 600] {
            let l = &leaves[..n as usize];
            let mut src = FromTiles::new(&mem);
            assert_eq!(
                tree_hash(&mut src, 0, n).unwrap(),
                merkle::root(l),
                "root {n}"
            );
            for m in [0, 1, n / 3, n / 2, n - 1] {
                let got = inclusion(&mut src, m, 0, n).unwrap();
                assert_eq!(got, merkle::inclusion_proof(m as usize, l), "path {m}/{n}");
            }
            for m in [1, 2, n / 2, n - 1, n] {
                if (1..=n).contains(&m) {
                    let got = consistency(&mut src, m, n).unwrap();
                    assert_eq!(got, merkle::consistency_proof(m as usize, l), "{m}->{n}");
                }
            }
        }
    }

    #[test]
    fn a_proof_reads_a_few_tiles_per_level_not_the_leaves() {
        // Three levels of tiles: 256^2 + a partial.
        let n = 256 * 256 + 777;
        let leaves: Vec<Hash> = (0u32..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mem = tiled(&leaves);
        let r = merkle::root(&leaves);
        for m in [0u64, 12_345, 65_535, 65_536, n as u64 - 1] {
            let mut src = FromTiles::new(&mem);
            let path = inclusion(&mut src, m, 0, n as u64).unwrap();
            let leaf = src.leaf(m).unwrap();
            assert!(merkle::verify_inclusion(m, n as u64, &leaf, &path, &r));
            assert!(src.reads <= 6, "leaf {m}: {} tiles read", src.reads);
        }
        let mut src = FromTiles::new(&mem);
        let p = consistency(&mut src, 40_000, n as u64).unwrap();
        let old = merkle::root(&leaves[..40_000]);
        assert!(merkle::verify_consistency(40_000, n as u64, &p, &old, &r));
        assert!(src.reads <= 8, "{} tiles read", src.reads);
    }

    #[test]
    fn a_missing_tile_is_an_integrity_error_not_a_wrong_proof() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut mem = tiled(&leaves);
        mem.0.remove(&(0, 1));
        let mut src = FromTiles::new(&mem);
        assert!(matches!(
            inclusion(&mut src, 3, 0, 300),
            Err(DomainError::LedgerIntegrity(_))
        ));
    }
}
