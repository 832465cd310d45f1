-- The live rows the statistics count in the given tables: the estimate the copy's progress bar shows.
-- $1 qualified table names.
SELECT coalesce(sum(n_live_tup), 0)::bigint FROM pg_catalog.pg_stat_user_tables
WHERE relid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t)
