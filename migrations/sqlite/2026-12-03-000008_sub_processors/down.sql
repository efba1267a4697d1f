ALTER TABLE parties DROP COLUMN sub_processors;
