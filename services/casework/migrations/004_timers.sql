-- Every reminder and overdue event of a case's time targets that has fired,
-- written in the transaction that puts its CaseTimerFired in the outbox. The
-- primary key is what makes each timer fire once, ever: a runner that comes
-- second, after a restart or on another replica, finds the row and sends
-- nothing. offset_seconds is the reminder's offset, 0 for the overdue event.
-- event_id is NULL for a reminder recorded as skipped because its target's
-- deadline had passed by the time a runner saw it (see internal/deadline).
CREATE TABLE timer_firings (
    case_id        uuid        NOT NULL REFERENCES cases (id),
    target         text        NOT NULL CHECK (target IN ('overall', 'first_response')),
    kind           text        NOT NULL CHECK (kind IN ('reminder', 'overdue')),
    offset_seconds bigint      NOT NULL CHECK ((kind = 'overdue') = (offset_seconds = 0)),
    -- When it was due, and the time of the pass that fired it.
    due_time       timestamptz NOT NULL,
    fire_time      timestamptz NOT NULL,
    event_id       uuid        UNIQUE,
    PRIMARY KEY (case_id, target, kind, offset_seconds)
);

-- No index on cases is added: a pass reads only the open cases (close_time
-- IS NULL, the predicate of cases_open_deadline_idx from 003) and the primary
-- key above answers whether each of their timers has fired. Open cases are
-- few (a group's concerns of the last months), so reading them all each
-- pass costs little.
