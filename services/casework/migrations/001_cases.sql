-- Cases, one per concern. concern_text, client_name, client_email and
-- client_phone are what casework took over from intake and holds in trust
-- for the client: only the store package reads or writes them, so that
-- encryption at rest can be added there alone.
CREATE TABLE cases (
    id            uuid        PRIMARY KEY,
    group_id      text        NOT NULL,
    concern       text        NOT NULL,
    reference     text        NOT NULL,
    therapist     text        NOT NULL,
    phase         text        NOT NULL,
    register_time timestamptz NOT NULL,
    deadline      timestamptz NOT NULL,
    concern_text  text        NOT NULL,
    client_name   text        NOT NULL,
    client_email  text        NOT NULL DEFAULT '',
    client_phone  text        NOT NULL DEFAULT '',
    version       integer     NOT NULL DEFAULT 1,
    create_time   timestamptz NOT NULL,
    -- One case per concern, however often its event arrives.
    CONSTRAINT cases_concern_key UNIQUE (concern)
);

-- ListCases: a group's cases, newest registration first, keyset paginated.
CREATE INDEX cases_list_idx ON cases (group_id, register_time DESC, id DESC);
