-- The run's clock (--now, else the server's) and each rule's cutoff: rows
-- whose column is older than it have outlived their age. Ages are
-- PostgreSQL intervals ("7 years", or "N days" from an operator's period);
-- the server parses them, so an unparsable --now is its data exception.
-- $1 --now (NULL: the server clock), $2 ages.
WITH clock AS (SELECT coalesce($1::text::timestamp, localtimestamp) AS ts)
SELECT clock.ts::text AS now,
       coalesce(array(SELECT (clock.ts - u.age::interval)::text FROM unnest($2::text[]) WITH ORDINALITY AS u(age, i)
                      ORDER BY u.i), '{}') AS cutoffs
FROM clock
