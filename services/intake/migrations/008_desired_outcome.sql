-- The outcome the client would like, in their own words (optional):
-- confidential like the description, sealed under the concern's data key
-- (purpose intake.concerns.desired_outcome:<id>) and set to NULL by the
-- hand-over, with the rest blanked. NULL also in the concerns registered
-- before this column, which had none, and read as empty. Every concern
-- registered since holds a ciphertext here, of an empty text when none was
-- given, as its other confidential columns do.
ALTER TABLE concerns ADD COLUMN desired_outcome text;
