-- Members' choice of the daily digest, set by each member for themselves.
-- A member without a row has not opted in.
CREATE TABLE digest_settings (
    member          text        PRIMARY KEY,  -- groups/{group}/members/{member}
    group_name      text        NOT NULL,     -- groups/{group}, for the digest job's walk by group
    enabled         boolean     NOT NULL,
    version         bigint      NOT NULL,     -- counts changes; the etag is made of it
    update_time     timestamptz NOT NULL,
    -- The last UTC day the digest job dealt with the member (sent their
    -- digest, or found nothing for them to do), so a later pass the same
    -- day, another replica or a restart leaves them alone; the delivery's
    -- deterministic event id is what makes the message itself once only.
    last_digest_day date
);

CREATE INDEX digest_settings_due ON digest_settings (group_name) WHERE enabled;
