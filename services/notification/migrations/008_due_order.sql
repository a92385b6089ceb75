-- The sender claims the first due delivery in (next_attempt_at, id) order.
-- With the index on next_attempt_at alone, PostgreSQL read every pending
-- delivery due at the first instant (an event's deliveries share it) and
-- sorted them by id to find the first; with id in the index, the index's
-- order is the claim's order and the scan stops at the first row it can
-- lock.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 'pending';
