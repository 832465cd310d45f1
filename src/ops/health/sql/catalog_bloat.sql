-- System catalog tables holding at least $1 dead tuples, more than $2 times
-- their live ones: tenants created and dropped faster than vacuum cleans up.
SELECT relname::text, n_dead_tup AS dead, n_live_tup AS live
FROM pg_catalog.pg_stat_sys_tables
WHERE schemaname = 'pg_catalog' AND n_dead_tup >= $1::bigint AND n_dead_tup > n_live_tup * $2::float8
ORDER BY n_dead_tup DESC
