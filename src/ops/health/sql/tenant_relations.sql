-- Relations each registered tenant schema holds (tables, partitions,
-- indexes, sequences, views, plus each TOAST table and its index): what one
-- transaction building, upgrading or dumping the tenant locks. Largest first.
SELECT t.schema_name::text AS schema,
       (count(c.oid) + 2 * count(c.oid) FILTER (WHERE c.reltoastrelid <> 0))::bigint AS relations
FROM shared.tenants t
JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema_name
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
GROUP BY t.schema_name
ORDER BY relations DESC, schema
