-- Every read of a concern's confidential part while intake holds it: in
-- practice casework taking it over. Appended in the read's own transaction
-- before the text is returned; never changed (the trigger refuses updates
-- and deletes, except the purge of a concern, which says so with
-- SET LOCAL intake.purging = 'on').
CREATE TABLE access_log (
    concern_id uuid        NOT NULL,
    reader     text        NOT NULL,
    read_time  timestamptz NOT NULL
);

CREATE INDEX access_log_concern_idx ON access_log (concern_id, read_time);

CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('intake.purging', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access log is never changed';
END $$;

CREATE TRIGGER access_log_append_only
    BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
