-- The outcome the client would like, in their own words, taken over from
-- intake with the concern: confidential like concern_text, sealed under the
-- case's data key (purpose casework.cases.desired_outcome:<case id>), read
-- only by internal/store, gone with the case's row at the purge. NULL in the
-- cases opened before this column, whose concerns had none, and read as
-- empty; every case opened since holds a ciphertext here, of an empty text
-- when the client gave none, as its other confidential columns do.
ALTER TABLE cases ADD COLUMN desired_outcome text;
