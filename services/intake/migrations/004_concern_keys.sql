-- Envelope encryption of the confidential columns (client_name, description,
-- client_email, client_phone): each concern has a random data key, kept only
-- wrapped under one of the service's configured keys (ENCRYPTION_KEYS);
-- key_id names that key, so that the re-encrypt command (intake -reencrypt)
-- finds the data keys still wrapped under an old one. The hand-over deletes
-- the key along with blanking the columns.
--
-- A concern has a key exactly when its confidential values are ciphertext
-- ("enc:v1:..."): concerns registered before this migration and not yet
-- handed over keep their plaintext until the re-encrypt command seals them.
ALTER TABLE concerns
    ADD COLUMN key_id      text,
    ADD COLUMN wrapped_key text;

CREATE INDEX concerns_key_id_idx ON concerns (key_id) WHERE key_id IS NOT NULL;
