-- Four eyes on grants (issue: "a new grant, or one that widens a scope, is effective only once a
-- second person approves it"). `requested_by` is who asked for the scope (its creator, or who
-- last widened it); `approved_at` is null while it waits. Grants made before approvals were
-- required count as approved when they were made, by nobody: `approved_by` stays null.
ALTER TABLE grants ADD COLUMN requested_by TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN approved_by TEXT;
ALTER TABLE grants ADD COLUMN approved_at TEXT;
UPDATE grants SET requested_by = created_by, approved_at = created_at;
CREATE INDEX grants_pending ON grants(approved_at) WHERE approved_at IS NULL;

-- Who last changed a party's status and when (issue: "record who trusted, suspended and
-- approved what, and show it on the objects"); null for changes made before this was kept,
-- which the ledger still holds.
ALTER TABLE parties ADD COLUMN status_changed_by TEXT;
ALTER TABLE parties ADD COLUMN status_changed_at TEXT;
