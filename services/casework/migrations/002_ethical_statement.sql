-- The version of the group's ethical statement in force when the concern
-- was registered; empty for cases opened before statements were recorded or
-- for groups that had published none.
ALTER TABLE cases ADD COLUMN ethical_statement text NOT NULL DEFAULT '';
