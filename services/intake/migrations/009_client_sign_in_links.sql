-- Clients who gave an e-mail address may ask for a sign-in link to their
-- cases (RequestClientSignInLink). The address itself is sealed, and gone
-- from intake once casework has the concern, so intake finds a client's
-- concerns by a keyed hash of the address: HMAC-SHA-256 of the lower-cased
-- address under a key derived from ACCESS_CODE_KEYS, written
-- $hmac-sha256$<key id>$<base64 MAC> (accesscode.Keys.EmailHash). It stays
-- after the hand-over, as the access code's hash does, and goes with the
-- concern when its case is purged.
--
-- NULL: not yet hashed (a concern registered before this column; intake
-- fills those it still holds the address of when it starts). Empty: the
-- client gave no e-mail address, or the concern was handed over before it
-- could be hashed.
ALTER TABLE concerns ADD COLUMN client_email_hash text;
CREATE INDEX concerns_client_email_hash ON concerns (group_id, client_email_hash, create_time DESC)
    WHERE client_email_hash <> '';

-- The links e-mailed to clients, one per case: only the SHA-256 of each
-- link's 256-bit secret, with the concern, when it expires (15 minutes on)
-- and when it was used. Links are deleted a day after they expired, as new
-- ones are made.
CREATE TABLE client_sign_in_links (
    secret_sha256 bytea       PRIMARY KEY,
    concern       uuid        NOT NULL REFERENCES concerns (id),
    create_time   timestamptz NOT NULL,
    expire_time   timestamptz NOT NULL,
    use_time      timestamptz
);
CREATE INDEX client_sign_in_links_expire_time ON client_sign_in_links (expire_time);
CREATE INDEX client_sign_in_links_concern ON client_sign_in_links (concern);
