-- Concerns as the client registered them. description, client_email and
-- client_phone are confidential: only the store package reads or writes
-- them, so that encryption at rest can be added there.
CREATE TABLE concerns (
    id               uuid        PRIMARY KEY,
    group_id         text        NOT NULL,
    practitioner     text        NOT NULL,
    client_name      text        NOT NULL,
    description      text        NOT NULL,
    client_email     text        NOT NULL DEFAULT '',
    client_phone     text        NOT NULL DEFAULT '',
    reference        text        NOT NULL,
    -- argon2id hash of the one-time access code in PHC form; the code itself
    -- is never stored.
    access_code_hash text        NOT NULL,
    create_time      timestamptz NOT NULL,
    CONSTRAINT concerns_group_reference_key UNIQUE (group_id, reference)
);
