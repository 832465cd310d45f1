-- Sets the target's sequences to the source's positions (logical replication carries rows, not sequences).
-- $1 names, $2 values, $3 called.
SELECT count(pg_catalog.setval(s.name::regclass, s.value, s.called))
FROM unnest($1::text[], $2::bigint[], $3::bool[]) AS s(name, value, called)
