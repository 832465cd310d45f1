-- The bounds of `partitions rollover --now`, on the server's clock: never
-- before today (a rollover in the past could only create partitions before
-- the retained window), at most two years ahead (the work, and a dry run's
-- plan, stay bounded). $1: the --now text; an unparsable one raises 22xxx.
SELECT $1::text::timestamp < date_trunc('day', localtimestamp) AS too_early,
       $1::text::timestamp > localtimestamp + interval '2 years' AS too_late,
       to_char(localtimestamp, 'YYYY-MM-DD HH24:MI') AS server_now,
       to_char(date_trunc('day', localtimestamp), 'YYYY-MM-DD') AS earliest,
       to_char(localtimestamp + interval '2 years', 'YYYY-MM-DD') AS latest
