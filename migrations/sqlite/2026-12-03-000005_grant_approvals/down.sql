ALTER TABLE parties DROP COLUMN status_changed_at;
ALTER TABLE parties DROP COLUMN status_changed_by;
DROP INDEX grants_pending;
ALTER TABLE grants DROP COLUMN approved_at;
ALTER TABLE grants DROP COLUMN approved_by;
ALTER TABLE grants DROP COLUMN requested_by;
