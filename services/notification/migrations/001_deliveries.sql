-- One message to one recipient for one event. Rows hold ids and
-- non-identifying facts only: never a message body, never an e-mail address
-- (it is looked up in the directory at send time), never concern text.
CREATE TABLE deliveries (
    id              uuid        PRIMARY KEY,
    group_name      text        NOT NULL,  -- groups/{group}
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    template        text        NOT NULL,  -- key of the message template
    recipient       text        NOT NULL,  -- groups/{group}/members/{member}
    -- Non-confidential facts the template needs, for example the group's
    -- display name and the concern's resource name.
    facts           jsonb       NOT NULL DEFAULT '{}',
    state           text        NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    create_time     timestamptz NOT NULL,
    send_time       timestamptz,
    -- A redelivered event never makes a second message.
    UNIQUE (event_id, recipient)
);

-- The sender's queue: pending rows by due time.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';

-- ListDeliveries: a group's rows, newest first.
CREATE INDEX deliveries_by_group ON deliveries (group_name, create_time DESC, id DESC);

-- Wake the sender as soon as deliveries are committed; it also polls, so a
-- missed notification only delays sending.
CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_deliveries', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();
