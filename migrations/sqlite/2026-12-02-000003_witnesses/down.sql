DROP TABLE cosignatures;
DROP TABLE ledger_tiles;
