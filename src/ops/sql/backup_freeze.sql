-- The tables of a tenant's schema ($1), partitioned parents included but not
-- their partitions (LOCK TABLE locks those through the parent), for
-- `tenant remove` to lock against writes while it takes the final backup.
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY 1
