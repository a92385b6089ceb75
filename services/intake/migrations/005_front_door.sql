-- What each client address did lately on the public door, for the
-- per-address limits (concerns registered, sign-in attempts). key is the
-- client's network (an IPv4 address or an IPv6 /64); rows are deleted once
-- older than their rule's window, so an address is kept at most that long.
CREATE TABLE rate_limit_events (
    bucket     text        NOT NULL,
    key        text        NOT NULL,
    event_time timestamptz NOT NULL
);
CREATE INDEX rate_limit_events_key ON rate_limit_events (bucket, key, event_time);
CREATE INDEX rate_limit_events_time ON rate_limit_events (bucket, event_time);

-- CreateConcern's request ids (AIP-155): a repeat of a request within 24
-- hours answers with the concern the first one registered instead of opening
-- a second case. The request's content is kept only as a SHA-256, enough to
-- tell a retry from a different request under the same id. concern_id is
-- chosen when the id is first claimed, before the concern exists: concurrent
-- repeats all register under that one id, so the concerns' primary key lets
-- only one of them through.
CREATE TABLE create_requests (
    request_id     uuid        PRIMARY KEY,
    content_sha256 bytea       NOT NULL,
    concern_id     uuid        NOT NULL,
    claim_time     timestamptz NOT NULL
);
CREATE INDEX create_requests_claim_time ON create_requests (claim_time);
