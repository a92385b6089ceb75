-- The procedure a case follows, who holds which role, the steps taken and
-- the meetings arranged. progress is the steps and meetings as JSON: facts
-- (step ids, outcomes, members, times), never confidential text, which
-- lives in documents, messages and notes.
ALTER TABLE cases
    ADD COLUMN procedure               text        NOT NULL DEFAULT 'procedures/ipn-disputes-v1',
    ADD COLUMN spt                     text        NOT NULL DEFAULT '',
    ADD COLUMN spt_nominee             text        NOT NULL DEFAULT '',
    ADD COLUMN spc                     text        NOT NULL DEFAULT '',
    ADD COLUMN lp                      text        NOT NULL DEFAULT '',
    ADD COLUMN outcome                 text        NOT NULL DEFAULT '',
    ADD COLUMN close_time              timestamptz,
    -- The first-response target: when it runs out and when it was met.
    ADD COLUMN first_response_deadline timestamptz,
    ADD COLUMN first_response_time     timestamptz,
    -- How long before each deadline reminders are due, in seconds, as the
    -- group had set them when the concern was registered.
    ADD COLUMN reminder_offsets        bigint[]    NOT NULL DEFAULT '{}',
    ADD COLUMN progress                jsonb       NOT NULL DEFAULT '{}';

UPDATE cases SET first_response_deadline = register_time + interval '14 days' WHERE first_response_deadline IS NULL;
ALTER TABLE cases ALTER COLUMN first_response_deadline SET NOT NULL;

-- ListCases filters: by phase, by a member's role, by overdue.
CREATE INDEX cases_phase_idx ON cases (group_id, phase, register_time DESC, id DESC);
CREATE INDEX cases_open_deadline_idx ON cases (deadline) WHERE close_time IS NULL;

-- Everything that happened in a case, in order. Never changed: the trigger
-- below refuses updates and deletes.
CREATE TABLE timeline_entries (
    case_id     uuid        NOT NULL REFERENCES cases (id),
    seq         integer     NOT NULL,
    step        text        NOT NULL,
    title       text        NOT NULL,
    actor       text        NOT NULL,
    actor_role  text        NOT NULL,
    outcome     text        NOT NULL DEFAULT '',
    subject     text        NOT NULL DEFAULT '',
    -- The roles that may see the entry besides its actor.
    audience    text[]      NOT NULL,
    create_time timestamptz NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE FUNCTION timeline_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'timeline entries are never changed';
END $$;

CREATE TRIGGER timeline_entries_append_only
    BEFORE UPDATE OR DELETE ON timeline_entries
    FOR EACH ROW EXECUTE FUNCTION timeline_entries_append_only();

-- Written documents, messages and notes. body is confidential: only the
-- store package reads or writes it. detail holds non-confidential facts
-- (version, state) as JSON; confidential structured content (the written
-- statement, the client's constraints) is JSON inside body.
CREATE TABLE documents (
    id          uuid        PRIMARY KEY,
    case_id     uuid        NOT NULL REFERENCES cases (id),
    kind        text        NOT NULL,
    author      text        NOT NULL,
    author_role text        NOT NULL,
    step        text        NOT NULL DEFAULT '',
    subject     text        NOT NULL DEFAULT '',
    version     integer     NOT NULL DEFAULT 0,
    body        text        NOT NULL,
    create_time timestamptz NOT NULL
);

CREATE INDEX documents_case_idx ON documents (case_id, kind, create_time);
