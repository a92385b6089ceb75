-- A delivery's recipient may be one of the group's link groups as well as a
-- member: recipient then holds groups/{group}/linkGroups/{link_group}, and
-- group_name stays the group whose event it is, so that group's admins see
-- the delivery in their log. The kind says how the sender finds the address
-- (a member's contact e-mail, or the link group's), which is still never
-- stored.
ALTER TABLE deliveries
    ADD COLUMN recipient_kind text NOT NULL DEFAULT 'member'
        CHECK (recipient_kind IN ('member', 'link_group'));
