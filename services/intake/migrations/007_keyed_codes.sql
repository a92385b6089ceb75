-- Access codes are hashed with HMAC-SHA-256 under a key from the settings
-- (ACCESS_CODE_KEYS): $hmac-sha256$<key id>$<mac>. Hashes written before
-- are argon2id ($argon2id$...); they still verify and are replaced at the
-- client's next sign-in. While any is left, every sign-in check also does
-- one argon2id computation, so that the time of a refusal does not tell
-- such a concern from others; this index finds out cheaply whether any is
-- left, and holds nothing once none is.
CREATE INDEX concerns_legacy_code_hash ON concerns (id) WHERE access_code_hash LIKE '$argon2id$%';

-- The access code itself, sealed under the concern's data key (purpose
-- intake.concerns.access_code:<id>), kept only when the concern was
-- registered with a request id and only while that id is remembered (24
-- hours), so that a repeat of the request gets the code again: an answer
-- lost on the way must not leave the client without their way back. It is
-- set to NULL after that window (and the data key deleted with it when the
-- concern was handed over meanwhile), when the code is reissued, and the
-- row goes when the case is purged.
ALTER TABLE concerns ADD COLUMN access_code_sealed text;
CREATE INDEX concerns_access_code_sealed ON concerns (create_time) WHERE access_code_sealed IS NOT NULL;
