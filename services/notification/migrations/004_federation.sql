-- How each delivery's last attempt went out: by e-mail, or over gRPC to a
-- link group's own deployment. Empty until the first attempt, because the
-- channel is decided at send time from the directory's current record.
ALTER TABLE deliveries
    ADD COLUMN channel text NOT NULL DEFAULT ''
        CHECK (channel IN ('', 'email', 'grpc'));

-- The delivery log's filters: a group's deliveries about one case, and to
-- one recipient, newest first.
CREATE INDEX deliveries_by_case ON deliveries (group_name, (facts ->> 'case'), create_time DESC, id DESC);
CREATE INDEX deliveries_by_recipient ON deliveries (group_name, recipient, create_time DESC, id DESC);

-- Notices peer deployments delivered to this deployment's groups. Like a
-- delivery, a notice holds names and ids only, never anything confidential.
CREATE TABLE incoming_notices (
    id                 uuid        PRIMARY KEY,
    group_name         text        NOT NULL,  -- the receiving group, groups/{group}
    notice_id          text        NOT NULL,  -- the sender's id for it
    peer               text        NOT NULL,  -- the peer deployment, as FEDERATION_PEERS names it
    from_group         text        NOT NULL,  -- groups/{group} in the sender's deployment
    from_display_name  text        NOT NULL,
    kind               text        NOT NULL CHECK (kind IN ('link_groups_informed', 'progress_reported')),
    case_name          text        NOT NULL,  -- the case in the sender's deployment
    sent_time          timestamptz,
    receive_time       timestamptz NOT NULL,
    -- A notice sent again (the sender retries until it hears back) is
    -- recorded once; ids are only unique per peer, so the peer is part of
    -- the key.
    UNIQUE (peer, notice_id, group_name)
);

CREATE INDEX incoming_notices_by_group ON incoming_notices (group_name, receive_time DESC, id DESC);
