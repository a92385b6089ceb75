-- Link groups hold access tokens too, so that they can call the system with
-- credentials of their own. A token has exactly one holder: a member or a
-- link group. A link group's token has no foreign key: deleting the link
-- group revokes its tokens and keeps them, as revoked member tokens are kept.
ALTER TABLE access_tokens
    ALTER COLUMN member_id DROP NOT NULL,
    ADD COLUMN link_group_id text,
    ADD CONSTRAINT access_tokens_one_holder CHECK ((member_id IS NULL) <> (link_group_id IS NULL));

-- A link group's tokens, newest first.
CREATE INDEX access_tokens_by_link_group ON access_tokens (group_id, link_group_id, create_time DESC, id DESC)
    WHERE link_group_id IS NOT NULL;

-- The procedure the group's new cases follow, procedures/{procedure}; empty
-- for casework's default.
ALTER TABLE groups ADD COLUMN procedure_name text NOT NULL DEFAULT '';
