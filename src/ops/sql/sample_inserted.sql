-- Rows this transaction inserted into each table of the tenant schema
-- (a partitioned table counts its partitions' rows), tables in creation
-- order, which puts parents before the children that reference them.
-- $1 schema name.
SELECT coalesce(pg_partition_root(c.oid), c.oid)::regclass::text AS tbl,
       (SELECT relname FROM pg_class WHERE oid = coalesce(pg_partition_root(c.oid), c.oid))::text AS name,
       sum(pg_stat_get_xact_tuples_inserted(c.oid))::bigint AS inserted
FROM pg_class c
WHERE c.relnamespace = to_regnamespace($1::text) AND c.relkind = 'r'
GROUP BY 1, 2
HAVING sum(pg_stat_get_xact_tuples_inserted(c.oid)) > 0
ORDER BY min(coalesce(pg_partition_root(c.oid), c.oid))
