-- ListCases answers from index-only scans of the open cases' list indexes
-- (009_awaiting.sql), which read the table itself for every index entry on a
-- page that the visibility map does not mark all-visible: every case
-- registered or changed since the last vacuum. PostgreSQL's defaults vacuum a
-- table after 20 % of its rows have changed (and 1,000 inserts), so a
-- group's cases could wait weeks, and in the meantime "My work" reads
-- every open case's row, not just the index, to count and filter them
-- (stack/bench: 1,151 heap fetches for 1,000 open cases before a vacuum,
-- none after). Vacuuming after 2 % of the rows, or 50, keeps the map
-- nearly whole at the cost of a small vacuum now and then; analysing as
-- often keeps the planner's estimates of the open cases current.
ALTER TABLE cases SET (
    autovacuum_vacuum_threshold = 50,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_threshold = 50,
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_threshold = 50,
    autovacuum_analyze_scale_factor = 0.02
);
