-- When casework has opened its case, it owns the concern's text and the
-- client's contact details; intake blanks its copy and keeps only what it
-- needs to recognise the client's access code (reference and hash).
ALTER TABLE concerns ADD COLUMN hand_over_time timestamptz;
