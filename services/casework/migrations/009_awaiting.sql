-- Whom each case waits for: the members who may now take a step of its next
-- steps that is not optional, as casefile.Service.AwaitingOf works it out
-- from the procedure (the code that gives every reader next_steps), kept
-- here so that ListCases's awaiting filter is a query rather than every
-- case's next steps worked out on every read. A member m is awaited when
--   m = ANY (awaiting_members) OR (awaiting_any_member AND NOT m = ANY (awaiting_excluded)):
-- awaiting_members are the role holders who may, awaiting_any_member says a
-- member with no role may, and awaiting_excluded are the role holders who
-- may not although any member may (the therapist, from appointing the
-- support people). Member resource names only; facts, like the role
-- columns.
--
-- awaiting_version is the case's version these were worked out for. Every
-- change of a case writes them with its new version, in its transaction; a
-- row where they differ (the open cases from before this migration, or a
-- case changed by a casework that did not know these columns) is filled in
-- by casework at start, before it serves, and on every timer pass
-- (store.FillAwaiting): a migration cannot run the procedure's Go.
ALTER TABLE cases
    ADD COLUMN awaiting_members    text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN awaiting_any_member boolean NOT NULL DEFAULT false,
    ADD COLUMN awaiting_excluded   text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN awaiting_version    integer NOT NULL DEFAULT 0;

-- A closed case waits for nobody, which the defaults already say.
UPDATE cases SET awaiting_version = version WHERE close_time IS NOT NULL;

-- A group's open cases, soonest deadline first and newest first, carrying
-- whom each waits for, so that the awaiting filter can be judged on the
-- index alone (an index-only scan, where the planner takes it); the page's
-- rows alone are then read whole, by id (store.List).
-- ListCases's closed cases go by cases_phase_idx (phase CLOSED).
CREATE INDEX cases_open_deadline_list_idx ON cases (group_id, deadline, id)
    INCLUDE (awaiting_any_member, awaiting_members, awaiting_excluded) WHERE close_time IS NULL;
CREATE INDEX cases_open_list_idx ON cases (group_id, register_time DESC, id DESC)
    INCLUDE (awaiting_any_member, awaiting_members, awaiting_excluded) WHERE close_time IS NULL;

-- The cases FillAwaiting must fill in: none once it has run.
CREATE INDEX cases_awaiting_stale_idx ON cases (id) WHERE close_time IS NULL AND awaiting_version <> version;
