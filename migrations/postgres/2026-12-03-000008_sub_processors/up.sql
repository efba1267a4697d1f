-- The parties a party passes data on to (its sub-processors, docs/TRANSFERS.md "Onward
-- transfers"): a JSON array kept with the party, recorded in the ledger with its other facts.
ALTER TABLE parties ADD COLUMN sub_processors TEXT NOT NULL DEFAULT '[]';
