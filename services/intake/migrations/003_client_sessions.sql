-- A client signs in with the reference alone (no group), and references are
-- unique only within a group: looking them up needs their own index.
CREATE INDEX concerns_reference ON concerns (reference);

-- Client sessions: what a client gets for a right reference and access code.
-- The token is ipncs_<id>_<secret>; only the SHA-256 of the secret is kept,
-- which is enough for 256 random bits.
CREATE TABLE client_sessions (
    id            text        PRIMARY KEY,
    concern       uuid        NOT NULL REFERENCES concerns (id),
    secret_sha256 bytea       NOT NULL,
    create_time   timestamptz NOT NULL,
    expire_time   timestamptz NOT NULL,
    -- Set when the concern's access code is reissued.
    revoke_time   timestamptz
);
CREATE INDEX client_sessions_concern ON client_sessions (concern) WHERE revoke_time IS NULL;

-- Refused sign-ins per reference, for the failed-attempt limit. Rows are
-- kept for references that do not exist too, so that the limit looks the
-- same for every reference. Old rows are deleted as new ones arrive.
CREATE TABLE access_code_failures (
    reference    text        NOT NULL,
    attempt_time timestamptz NOT NULL
);
CREATE INDEX access_code_failures_reference ON access_code_failures (reference, attempt_time);
CREATE INDEX access_code_failures_attempt_time ON access_code_failures (attempt_time);
