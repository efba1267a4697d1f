-- Grants that live (issue "Procurement at scale", bullet 4): an amendment or renewal is a new
-- grant that `supersedes` the one it amends; the old one stays in force until the new one is
-- approved, and is then revoked with `superseded_by` naming its successor.
ALTER TABLE grants ADD COLUMN supersedes TEXT;
ALTER TABLE grants ADD COLUMN superseded_by TEXT;
CREATE INDEX grants_supersedes ON grants(supersedes) WHERE supersedes IS NOT NULL;
