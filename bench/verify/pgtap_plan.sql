-- Writes the pgTAP test file bench/verify.sh times: what a pgTAP user would
-- hard-code, taken from the catalog of one reference tenant (:'ref', e.g.
-- t001_schema) and applied to every registered tenant schema.
--   per schema: tables_are(schema, ARRAY[every table and partition])
--   per table (not per partition): columns_are, indexes_are, policies_are,
--   triggers_are (schema, table, ARRAY[expected names])
-- Run with psql -X -At; the output is the test file, the usual
-- BEGIN; plan(n); …; finish(); ROLLBACK; of a pgTAP test.
WITH tabs AS (
    SELECT c.oid, c.relname, c.relispartition
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :'ref' AND c.relkind IN ('r', 'p')
), expected AS (
    SELECT 0 AS ord, NULL::name AS tbl, 'tables_are' AS fn,
           ARRAY(SELECT relname FROM tabs ORDER BY relname) AS names
    UNION ALL
    SELECT 1, t.relname, 'columns_are',
           ARRAY(SELECT a.attname FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
    FROM tabs t WHERE NOT t.relispartition
    UNION ALL
    SELECT 2, t.relname, 'indexes_are',
           ARRAY(SELECT i.relname FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                 WHERE x.indrelid = t.oid ORDER BY i.relname)
    FROM tabs t WHERE NOT t.relispartition
    UNION ALL
    SELECT 3, t.relname, 'policies_are',
           ARRAY(SELECT p.polname FROM pg_catalog.pg_policy p WHERE p.polrelid = t.oid ORDER BY p.polname)
    FROM tabs t WHERE NOT t.relispartition
    UNION ALL
    SELECT 4, t.relname, 'triggers_are',
           ARRAY(SELECT g.tgname FROM pg_catalog.pg_trigger g
                 WHERE g.tgrelid = t.oid AND NOT g.tgisinternal ORDER BY g.tgname)
    FROM tabs t WHERE NOT t.relispartition
), schemas AS (
    SELECT schema_name::name AS sch FROM shared.tenants WHERE status = 'active' AND schema_name IS NOT NULL
), lines AS (
    SELECT s.sch, e.ord, e.tbl,
           CASE WHEN e.tbl IS NULL THEN format('SELECT %s(%L, %L::name[]);', e.fn, s.sch, e.names)
                ELSE format('SELECT %s(%L, %L, %L::name[]);', e.fn, s.sch, e.tbl, e.names) END AS line
    FROM schemas s CROSS JOIN expected e
)
SELECT 'BEGIN;'
UNION ALL
SELECT format('SELECT plan(%s);', count(*)) FROM lines
UNION ALL
(SELECT line FROM lines ORDER BY sch, tbl NULLS FIRST, ord)
UNION ALL
SELECT 'SELECT * FROM finish();'
UNION ALL
SELECT 'ROLLBACK;';
