-- Sign-in links e-mailed to members. Only a SHA-256 of each 256-bit secret
-- is kept, which is also how a link is found. A link works once (use_time)
-- and for 15 minutes; rows are deleted a day after they expire.
CREATE TABLE sign_in_links (
    secret_hash bytea       PRIMARY KEY,
    group_id    text        NOT NULL,
    member_id   text        NOT NULL,
    create_time timestamptz NOT NULL,
    expire_time timestamptz NOT NULL,
    use_time    timestamptz,
    FOREIGN KEY (group_id, member_id) REFERENCES members (group_id, id)
);
CREATE INDEX sign_in_links_expire_time ON sign_in_links (expire_time);

-- Members' sessions started from a sign-in link: bearer tokens
-- ipnms_<id>_<secret>, of which only a SHA-256 of the secret is kept.
CREATE TABLE member_sessions (
    id             text        PRIMARY KEY,
    group_id       text        NOT NULL,
    member_id      text        NOT NULL,
    secret_hash    bytea       NOT NULL,
    create_time    timestamptz NOT NULL,
    expire_time    timestamptz NOT NULL,
    last_used_time timestamptz,
    revoke_time    timestamptz,
    FOREIGN KEY (group_id, member_id) REFERENCES members (group_id, id)
);
CREATE INDEX member_sessions_by_member ON member_sessions (group_id, member_id, create_time DESC, id DESC);

-- How long a member session lasts, in seconds; 0 for the default (12 hours).
ALTER TABLE groups ADD COLUMN member_session_lifetime_s bigint NOT NULL DEFAULT 0;

-- Sign-in links asked for lately, per e-mail address and per client
-- network, for platform/limit's counts. Rows go once older than their
-- rule's window.
CREATE TABLE rate_limit_events (
    bucket     text        NOT NULL,
    key        text        NOT NULL,
    event_time timestamptz NOT NULL
);
CREATE INDEX rate_limit_events_key ON rate_limit_events (bucket, key, event_time);
CREATE INDEX rate_limit_events_time ON rate_limit_events (bucket, event_time);
