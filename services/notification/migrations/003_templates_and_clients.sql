-- A delivery may go to the client of a case: recipient then holds
-- groups/{group}/cases/{case}/client, and the address is asked of casework
-- at send time, never stored.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_recipient_kind_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_recipient_kind_check
    CHECK (recipient_kind IN ('member', 'link_group', 'client'));

-- A group's own wording of a message template, set by its admins. An empty
-- part keeps the embedded one. Checked by parsing and rendering before it is
-- stored.
CREATE TABLE template_overrides (
    group_name  text        NOT NULL,  -- groups/{group}
    template    text        NOT NULL,  -- the template's key
    subject     text        NOT NULL DEFAULT '',
    text_body   text        NOT NULL DEFAULT '',
    html_body   text        NOT NULL DEFAULT '',
    update_time timestamptz NOT NULL,
    updated_by  text        NOT NULL,  -- the admin's resource name
    PRIMARY KEY (group_name, template)
);
