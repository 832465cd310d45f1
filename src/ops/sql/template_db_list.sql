-- Databases `provision db create` made (recognised by their comment), the
-- templates (and unfinished template builds) they are cloned from, and the
-- templates' spares (the pool), with sizes when $1 (sizes walk every file of
-- every database listed).
SELECT name, is_template, bytes, coalesce(pg_catalog.pg_size_pretty(bytes), '') AS size, comment
FROM (
    SELECT d.datname::text AS name,
           d.datistemplate AS is_template,
           CASE WHEN $1::bool THEN pg_catalog.pg_database_size(d.oid) END AS bytes,
           coalesce(pg_catalog.shobj_description(d.oid, 'pg_database'), '') AS comment
    FROM pg_catalog.pg_database d
    WHERE d.datname ~ '^provision_tpl_[0-9a-f]{16}(_build|_spare_[0-9]+)?$'
       OR pg_catalog.shobj_description(d.oid, 'pg_database') LIKE 'provision db create: template %'
) AS found
ORDER BY name
