-- Every read of a case's confidential material: who, in which role, what
-- and when. Appended before the material is shown; never changed (the
-- trigger refuses updates and deletes).
CREATE TABLE access_log (
    case_id     uuid        NOT NULL REFERENCES cases (id),
    seq         bigint      NOT NULL,
    reader      text        NOT NULL,
    reader_role text        NOT NULL,
    resource    text        NOT NULL,
    kind        text        NOT NULL,
    read_time   timestamptz NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is never changed';
END $$;

CREATE TRIGGER access_log_append_only
    BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
