-- The Merkle tree stored as C2SP tlog-tiles: each tile holds up to 256 consecutive hashes of
-- one tree level (level L holds the roots of the subtrees of 256^L leaves). A full tile
-- (width 256) never changes; the partial tile at the right edge of each level grows in place
-- as checkpoints are signed, so a proof reads O(log n) hashes.
CREATE TABLE ledger_tiles (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    width INTEGER NOT NULL CHECK (width BETWEEN 1 AND 256),
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TRIGGER ledger_tiles_full_no_update BEFORE UPDATE ON ledger_tiles
WHEN OLD.width = 256 OR NEW.width < OLD.width
BEGIN SELECT RAISE(ABORT, 'a full tile never changes and a partial tile only grows'); END;
CREATE TRIGGER ledger_tiles_no_delete BEFORE DELETE ON ledger_tiles
BEGIN SELECT RAISE(ABORT, 'tiles are append-only'); END;

-- C2SP tlog-cosignature/v1 cosignatures of checkpoints by witnesses, as they sent them.
CREATE TABLE cosignatures (
    checkpoint_size BIGINT NOT NULL REFERENCES checkpoints(size),
    -- The witness's verifier key (`name+hash+base64(0x04 || key)`).
    witness_key TEXT NOT NULL,
    witness TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    -- The note signature line: `— <name> base64(key hash || timestamp || signature)`.
    signature_line TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_from TEXT NOT NULL,
    PRIMARY KEY (checkpoint_size, witness_key)
);
CREATE TRIGGER cosignatures_no_update BEFORE UPDATE ON cosignatures
BEGIN SELECT RAISE(ABORT, 'cosignatures are append-only'); END;
CREATE TRIGGER cosignatures_no_delete BEFORE DELETE ON cosignatures
BEGIN SELECT RAISE(ABORT, 'cosignatures are append-only'); END;
