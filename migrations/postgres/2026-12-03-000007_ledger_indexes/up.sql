-- The ledger is read by action or by subject in seq order, a page at a time
-- (`seq > after ... ORDER BY seq LIMIT n`). An index on the column alone made each page scan
-- every entry of that action and sort them (`seq` is not SQLite's rowid): reading all
-- decisions was quadratic in their number. With `seq` in the index, a page is a range scan.
CREATE INDEX ledger_action_seq ON ledger(action, seq);
CREATE INDEX ledger_subject_seq ON ledger(subject, seq);
DROP INDEX ledger_action;
DROP INDEX ledger_subject;
