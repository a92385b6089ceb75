-- Truthful attempts and failure classes.
--
-- attempts now counts every attempt, and is counted when the attempt starts:
-- the sender claims a due delivery in a short transaction of its own that
-- adds one to attempts, stamps attempt_time and moves next_attempt_at to the
-- end of a lease, commits, and only then hands the message off; the outcome
-- is recorded afterwards, only if attempts still holds the claimed number.
-- A hand-off whose outcome was never recorded (a crash, PostgreSQL
-- restarting) thus still shows, and the delivery is tried again when the
-- lease runs out: two hand-offs are two attempts, with one Message-ID.
--
-- failures counts the failed attempts that count toward MAX_ATTEMPTS: those
-- of no known class. A failure because something was unreachable (the
-- directory, casework, the SMTP connection, an SMTP 4xx) counts in attempts
-- only; a permanent one (an SMTP 5xx for the address, a recipient who is
-- gone) kills the delivery at once. Retrying a dead delivery sets failures
-- back to 0 and leaves attempts as it was.
ALTER TABLE deliveries
    ADD COLUMN failures integer NOT NULL DEFAULT 0,
    ADD COLUMN attempt_time timestamptz;

-- Before this migration every failed attempt counted toward the limit, and
-- every attempt but a sending one failed.
UPDATE deliveries SET failures = CASE WHEN state = 'sent' THEN greatest(attempts - 1, 0) ELSE attempts END
    WHERE attempts > 0;
