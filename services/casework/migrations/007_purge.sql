-- What remains of a case once its group's retention period after closing
-- has passed and its records are purged: facts that identify no one, for the
-- group to see how its procedure works. No case id, no names, no dates finer
-- than the month of registration.
CREATE TABLE case_statistics (
    id                     bigserial   PRIMARY KEY,
    group_id               text        NOT NULL,
    procedure              text        NOT NULL,
    outcome                text        NOT NULL,
    register_month         date        NOT NULL,
    days_open              integer     NOT NULL,
    first_response_in_time boolean     NOT NULL,
    closed_in_time         boolean     NOT NULL,
    joint_meeting_held     boolean     NOT NULL,
    escalated              boolean     NOT NULL,
    purge_time             timestamptz NOT NULL
);

CREATE INDEX case_statistics_group_idx ON case_statistics (group_id, register_month);

-- Closed cases, oldest closing first, for the purge job.
CREATE INDEX cases_closed_idx ON cases (close_time) WHERE close_time IS NOT NULL;

-- The timeline and the access log are append-only, except in the purge's own
-- transaction, which says so with SET LOCAL casework.purging = 'on'.
CREATE OR REPLACE FUNCTION timeline_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('casework.purging', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'timeline entries are never changed';
END $$;

CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('casework.purging', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access log is never changed';
END $$;
