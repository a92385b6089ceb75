-- Versions of each group's ethical statement. Sections are read from the
-- Markdown when needed, so the text is the only copy.
CREATE TABLE statements (
    group_id      text        NOT NULL REFERENCES groups (id),
    version       integer     NOT NULL CHECK (version > 0),
    markdown      text        NOT NULL,
    state         text        NOT NULL CHECK (state IN ('draft', 'published', 'superseded')),
    create_time   timestamptz NOT NULL,
    publish_time  timestamptz,
    PRIMARY KEY (group_id, version)
);

-- At most one version of a group's statement is in force.
CREATE UNIQUE INDEX statements_one_published ON statements (group_id) WHERE state = 'published';

-- A member's tokens, newest first.
CREATE INDEX access_tokens_by_member ON access_tokens (group_id, member_id, create_time DESC, id DESC);
