-- The secrets the sample files inserted, in insertion order (a fresh temp
-- table that is only appended to keeps it in ctid order).
SELECT label, secret FROM pg_temp.sample_secrets ORDER BY ctid
