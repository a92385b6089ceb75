-- Envelope encryption of the confidential columns (cases.concern_text,
-- client_name, client_email, client_phone and documents.body): each case has
-- a random data key, kept here only wrapped under one of the service's
-- configured keys (ENCRYPTION_KEYS); key_id names that key, so that the
-- re-encrypt command (casework -rewrap) finds the data keys still wrapped
-- under an old one. Deleting a case's row here makes its text unreadable.
--
-- A case has a row here exactly when all of its confidential values are
-- ciphertext ("enc:v1:..."): cases opened before this migration keep their
-- plaintext until the re-encrypt command, or the first document written to
-- the case, seals them all and adds the row in one transaction.
CREATE TABLE case_keys (
    case_id     uuid        PRIMARY KEY REFERENCES cases (id),
    key_id      text        NOT NULL,
    wrapped_key text        NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX case_keys_key_id_idx ON case_keys (key_id);
