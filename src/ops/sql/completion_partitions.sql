-- Every partition (qualified) of the given partitioned tables, so one
-- tenant's partitions can be secured without scanning every tenant's audit
-- log partitions in the shared audit schema. $1: qualified parents.
SELECT format('%I.%I', n.nspname, c.relname)
FROM unnest($1::text[]) AS p(parent)
CROSS JOIN LATERAL pg_catalog.pg_partition_tree(pg_catalog.to_regclass(p.parent)) AS tree
JOIN pg_catalog.pg_class c ON c.oid = tree.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE tree.level > 0 AND c.relkind IN ('r', 'p')
