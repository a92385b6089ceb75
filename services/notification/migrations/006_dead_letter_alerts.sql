-- Whether the group's admins have been told that a dead delivery died. A
-- delivery that dies is marked untold; the dead-letter job tells the admins
-- of its group (one message each for all of the group's untold deaths, at
-- most once an hour) and marks those deaths told in the same transaction,
-- so nobody is told twice of one death and no death goes untold. Rows from
-- before this migration count as told: nobody is told of old deaths.
ALTER TABLE deliveries ADD COLUMN death_told boolean NOT NULL DEFAULT true;

CREATE INDEX deliveries_untold_deaths ON deliveries (group_name) WHERE NOT death_told;
