-- Events a consumer could not apply: the handler refused them as things
-- stand, or they failed too often for other reasons. A parked event is kept
-- here, never dropped, until it is applied: again on its own at
-- next_retry_at (with backoff), or at once when the operator asks. The row
-- is committed before the JetStream message is acknowledged, and deleted in
-- the transaction that applies the event. event_id is text, not uuid, so
-- that an event with a malformed id can be parked too.
CREATE TABLE parked_events (
    consumer      text        NOT NULL,
    event_id      text        NOT NULL,
    subject       text        NOT NULL,
    event_type    text        NOT NULL,
    payload       bytea       NOT NULL,
    -- Times the consumer was handed the event before it parked it.
    attempts      integer     NOT NULL,
    -- Why the last attempt failed, as logged; no confidential text.
    reason        text        NOT NULL,
    parked_at     timestamptz NOT NULL DEFAULT now(),
    -- Times it was tried again since, on its own or on request.
    retries       integer     NOT NULL DEFAULT 0,
    next_retry_at timestamptz NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

CREATE INDEX parked_events_due ON parked_events (consumer, next_retry_at);
CREATE INDEX parked_events_listed ON parked_events (parked_at, consumer, event_id);

-- Failures of events not applied yet that count toward the consumer's
-- MaxAttempts: JetStream's delivery count also counts the attempts that
-- failed because a dependency was unreachable, which must never park an
-- event. A row goes when its event is applied or parked.
CREATE TABLE event_failures (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    failures    integer     NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
