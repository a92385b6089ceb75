CREATE TABLE groups (
    id                     text PRIMARY KEY,
    display_name           text        NOT NULL,
    ipn_status             smallint    NOT NULL DEFAULT 0,
    status_since_year      integer     NOT NULL DEFAULT 0,
    meeting_frequency      text        NOT NULL DEFAULT '',
    public_contact         text        NOT NULL DEFAULT '',
    overall_target_s       bigint      NOT NULL DEFAULT 0,
    first_response_target_s bigint     NOT NULL DEFAULT 0,
    reminder_offsets_s     bigint[]    NOT NULL DEFAULT '{}',
    create_time            timestamptz NOT NULL,
    update_time            timestamptz NOT NULL,
    version                integer     NOT NULL
);

CREATE TABLE members (
    group_id        text        NOT NULL REFERENCES groups (id),
    id              text        NOT NULL,
    display_name    text        NOT NULL,
    active          boolean     NOT NULL,
    email           text        NOT NULL,
    phone           text        NOT NULL DEFAULT '',
    training        text        NOT NULL DEFAULT '',
    qualifications  text        NOT NULL DEFAULT '',
    experience      text        NOT NULL DEFAULT '',
    way_of_working  text        NOT NULL DEFAULT '',
    group_admin     boolean     NOT NULL DEFAULT false,
    join_time       timestamptz NOT NULL,
    leave_time      timestamptz,
    version         integer     NOT NULL,
    PRIMARY KEY (group_id, id)
);

CREATE TABLE link_groups (
    group_id       text        NOT NULL REFERENCES groups (id),
    id             text        NOT NULL,
    display_name   text        NOT NULL,
    local_group    text        NOT NULL DEFAULT '',
    contact_email  text        NOT NULL DEFAULT '',
    grpc_endpoint  text        NOT NULL DEFAULT '',
    create_time    timestamptz NOT NULL,
    PRIMARY KEY (group_id, id)
);

-- Only a SHA-256 of each secret is kept.
CREATE TABLE access_tokens (
    id             text PRIMARY KEY,
    group_id       text        NOT NULL,
    member_id      text        NOT NULL,
    display_name   text        NOT NULL DEFAULT '',
    secret_hash    bytea       NOT NULL,
    expire_time    timestamptz NOT NULL,
    create_time    timestamptz NOT NULL,
    last_used_time timestamptz,
    revoke_time    timestamptz,
    FOREIGN KEY (group_id, member_id) REFERENCES members (group_id, id)
);
