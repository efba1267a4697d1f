DROP INDEX grants_supersedes;
ALTER TABLE grants DROP COLUMN superseded_by;
ALTER TABLE grants DROP COLUMN supersedes;
