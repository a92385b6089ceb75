-- How long a closed case's records are kept before casework purges them, in
-- seconds; 0 for the default (six years).
ALTER TABLE groups ADD COLUMN retention_s bigint NOT NULL DEFAULT 0;
