-- Appended by bench/verify.sh to src/ops/sql/verify_fingerprint.sql (wrapped as
-- "WITH fp(sch, kind, name, detail) AS (" … ")"; $1 replaced by :'schemas').
-- Counts what `provision verify` compares: one fact per fingerprint row of a
-- tenant (its schema and its audit log in `audit`), each compared with the
-- reference built from the templates, plus the shared schemas' rows,
-- compared with a throwaway database built from the shared migrations.
-- Then the inputs of the invariants query (each one a checked fact).
-- Output rows: section|what|count.
), tenant_schemas AS (
    SELECT schema_name::text AS sch, tenant_code::text AS code FROM shared.tenants WHERE status = 'active'
), scoped AS (
    SELECT CASE WHEN fp.sch IN (SELECT sch FROM tenant_schemas) THEN 'tenant'
                WHEN fp.sch = 'audit' AND split_part(fp.name, '.', 1) LIKE '%\_audit\_log%' THEN 'tenant'
                ELSE 'shared' END AS scope, fp.kind
    FROM fp
), tenant_tables AS (
    SELECT c.oid, c.relkind, c.relname FROM tenant_schemas t JOIN pg_catalog.pg_namespace n ON n.nspname = t.sch
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
)
SELECT 'fingerprint ' || scope, kind, count(*) FROM scoped GROUP BY scope, kind
UNION ALL
SELECT 'invariants', 'tables and partitions (RLS enabled and forced, audit trigger)',
       count(*) FILTER (WHERE relkind IN ('r', 'p') AND relname <> 'refinery_schema_history') FROM tenant_tables
UNION ALL
SELECT 'invariants', 'tenant roles (exist, no superuser/bypassrls/login, own nothing)', 3 * count(*) FROM tenant_schemas
UNION ALL
SELECT 'invariants', 'cross-tenant schema privileges (role x other tenant schema)',
       3 * count(*) * (count(*) - 1) FROM tenant_schemas
UNION ALL
SELECT 'invariants', 'cross-tenant relation privileges (role x other tenant relation)',
       3 * (SELECT count(*) FROM tenant_schemas) * (SELECT count(*) FILTER (WHERE relkind IN ('r', 'p', 'v', 'm')) FROM tenant_tables)
       - 3 * (SELECT count(*) FILTER (WHERE relkind IN ('r', 'p', 'v', 'm')) FROM tenant_tables)
UNION ALL
SELECT 'invariants', 'functions (search_path pinned)', count(*)
FROM tenant_schemas t JOIN pg_catalog.pg_namespace n ON n.nspname = t.sch JOIN pg_catalog.pg_proc p ON p.pronamespace = n.oid;
