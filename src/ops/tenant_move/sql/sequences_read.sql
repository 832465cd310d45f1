-- The given sequences' positions on the source: the value the next setval gives the target and whether it was used.
-- $1 qualified sequence names.
SELECT s.name, coalesce(pg_catalog.pg_sequence_last_value(s.name::regclass), q.seqstart) AS value,
       pg_catalog.pg_sequence_last_value(s.name::regclass) IS NOT NULL AS called
FROM unnest($1::text[]) AS s(name)
JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.name::regclass
ORDER BY s.name
