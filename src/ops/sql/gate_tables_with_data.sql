-- Which of the given tables hold data in at least one of the given tenant
-- schemas, for the gate's lock-hazard warnings (a lock on an empty table
-- blocks nobody for long). "Holds data" is the table's files on disk, its
-- partitions' for a partitioned table: nonzero even after every row was
-- deleted (until VACUUM truncates it), which errs on the side of a warning.
-- Lookups by (name, schema) go through pg_class's index.
-- $1 tenant schemas; $2 table names.
SELECT DISTINCT c.relname::text
FROM unnest($1::text[]) AS s(schema)
JOIN pg_catalog.pg_namespace n ON n.nspname = s.schema
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = ANY ($2::text[]) AND c.relkind IN ('r', 'p', 'm')
-- (pg_partition_tree returns nothing for a table that is not partitioned.)
WHERE pg_catalog.pg_relation_size(c.oid) > 0
   OR EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(c.oid) AS part WHERE pg_catalog.pg_relation_size(part.relid) > 0)
