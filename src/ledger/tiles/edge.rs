//! The right edge of a growing tree: the partial tile of each level. Pushing leaves fills tiles;
//! each full tile is handed out once, and its root moves up a level. Pure: no I/O.

use super::{WIDTH, fold};
use crate::ledger::merkle::{Hash, empty_root, node_hash};

/// A tile to store: level, index, and its hashes (a full tile, or the prefix of one).
pub type Tile = (u8, u64, Vec<Hash>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edge {
    /// `levels[L]`: the hashes of the partial tile at level L (fewer than 256).
    levels: Vec<Vec<Hash>>,
    size: u64,
    /// Full tiles made since the last `take_full`.
    full: Vec<Tile>,
}

impl Edge {
    /// The edge of a tree of `size` leaves whose partial tiles are `levels` (lowest first).
    pub fn new(size: u64, levels: Vec<Vec<Hash>>) -> Edge {
        Edge {
            levels,
            size,
            full: Vec::new(),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The partial tile widths a tree of `size` leaves has at each level: `(level, index,
    /// width)`, lowest level first, empty partials left out.
    pub fn partials(size: u64) -> Vec<(u8, u64, usize)> {
        let mut out = Vec::new();
        let mut count = size;
        let mut level = 0u8;
        while count > 0 {
            let width = (count % WIDTH as u64) as usize;
            if width > 0 {
                out.push((level, count / WIDTH as u64, width));
            }
            count /= WIDTH as u64;
            level += 1;
        }
        out
    }

    pub fn push(&mut self, leaf: Hash) {
        self.size += 1;
        let mut hash = leaf;
        let mut level = 0usize;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            if self.levels[level].len() < WIDTH {
                break;
            }
            let tile = std::mem::take(&mut self.levels[level]);
            hash = fold(&tile);
            // This level has `size / 256^level` hashes; the tile just filled is the last 256.
            let count = self.size >> (8 * level as u32);
            self.full
                .push((level as u8, count / WIDTH as u64 - 1, tile));
            level += 1;
        }
    }

    /// The full tiles made since the last call.
    pub fn take_full(&mut self) -> Vec<Tile> {
        std::mem::take(&mut self.full)
    }

    /// The partial tiles of the edge as they stand, lowest level first.
    pub fn partial_tiles(&self) -> Vec<Tile> {
        let mut count = self.size;
        let mut out = Vec::new();
        for (level, hashes) in self.levels.iter().enumerate() {
            if !hashes.is_empty() {
                out.push((level as u8, count / WIDTH as u64, hashes.clone()));
            }
            count /= WIDTH as u64;
        }
        out
    }

    /// The RFC 9162 tree hash of the leaves pushed: one perfect subtree per set bit of the
    /// size, largest (leftmost) first, folded from the right.
    pub fn root(&self) -> Hash {
        let mut nodes: Vec<Hash> = Vec::new();
        for hashes in self.levels.iter().rev() {
            let mut at = 0;
            let mut rest = hashes.len();
            while rest > 0 {
                let chunk = 1 << (usize::BITS - 1 - rest.leading_zeros());
                nodes.push(fold(&hashes[at..at + chunk]));
                at += chunk;
                rest -= chunk;
            }
        }
        let Some((last, others)) = nodes.split_last() else {
            return empty_root();
        };
        others
            .iter()
            .rev()
            .fold(*last, |right, left| node_hash(left, &right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::merkle::{leaf_hash, root};

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn the_edge_root_is_the_tree_hash_at_every_size_across_tile_boundaries() {
        let l = leaves(256 * 3 + 5);
        let mut e = Edge::default();
        assert_eq!(e.root(), empty_root());
        for (i, leaf) in l.iter().enumerate() {
            e.push(*leaf);
            let n = i + 1;
            if n < 20 || n % 256 < 3 || n % 256 > 253 || n % 97 == 0 {
                assert_eq!(e.root(), root(&l[..n]), "size {n}");
            }
        }
    }

    #[test]
    fn full_tiles_come_once_in_order_and_partials_resume_the_same_tree() {
        let l = leaves(256 * 256 + 300);
        let mut e = Edge::default();
        let mut full = Vec::new();
        for leaf in &l[..256 * 256 + 1] {
            e.push(*leaf);
            full.extend(e.take_full());
        }
        // 257 level-0 tiles and the first level-1 tile, which holds their roots.
        assert_eq!(full.len(), 257);
        assert_eq!(full[0], (0, 0, l[..256].to_vec()));
        for (i, tile) in full[..256].iter().enumerate() {
            assert_eq!((tile.0, tile.1), (0, i as u64));
        }
        assert_eq!((full[256].0, full[256].1), (1, 0));
        assert_eq!(full[256].2[3], fold(&l[3 * 256..4 * 256]));
        // An edge rebuilt from its partial tiles grows into the same tree.
        let size = e.size();
        let parts = e.partial_tiles();
        assert_eq!(
            parts
                .iter()
                .map(|(lv, i, h)| (*lv, *i, h.len()))
                .collect::<Vec<_>>(),
            Edge::partials(size)
        );
        let mut levels = vec![Vec::new(); 3];
        for (lv, _, h) in parts {
            levels[lv as usize] = h;
        }
        let mut resumed = Edge::new(size, levels);
        for leaf in &l[256 * 256 + 1..] {
            e.push(*leaf);
            resumed.push(*leaf);
        }
        assert_eq!(resumed.root(), e.root());
        assert_eq!(resumed.root(), root(&l));
    }
}
