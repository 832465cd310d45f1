-- Row tenancy (issue 14): the registry against the rows of every row blueprint's tenant table, in one statement
-- whatever the number of tenants or blueprints. Each row is a violation: (scope, check, kind, object, problem).
-- $1..$5 per row blueprint: its name (its findings' scope is row:<name>), [row] schema, table, code column and status column (NULL when it has none).
-- $6/$7 the (code, blueprint) of the tenants verified (active, locked): each must have its row, active where the
-- table has a status column. $8: whether a row no tenant is registered for is reported too (a run over the whole
-- database; `tenant add` checks only its own tenant).
-- A blueprint's table is read through query_to_xml, its names quoted by format(%I), and only where the table and its
-- columns exist (the catalog query reports them otherwise) and row level security does not filter what the
-- connecting role reads (provision connects as a superuser; a role held to the policies would see no row).
WITH given AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
        AS s(blueprint, sch, tbl, code_col, status_col)
), spec AS MATERIALIZED (
    SELECT s.* FROM given s
    WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = pg_catalog.to_regclass(format('%I.%I', s.sch, s.tbl)) AND a.attname = s.code_col
                    AND NOT a.attisdropped AND a.attnum > 0)
      AND (s.status_col IS NULL OR EXISTS (
              SELECT 1 FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = pg_catalog.to_regclass(format('%I.%I', s.sch, s.tbl)) AND a.attname = s.status_col
                AND NOT a.attisdropped AND a.attnum > 0))
      AND NOT pg_catalog.row_security_active(format('%I.%I', s.sch, s.tbl))
), tenant_rows AS (
    SELECT s.blueprint, x.code, x.status
    FROM spec s
    CROSS JOIN LATERAL pg_catalog.query_to_xml(
        format('SELECT %I::text AS code, %s AS status FROM %I.%I', s.code_col,
               CASE WHEN s.status_col IS NULL THEN 'NULL::text' ELSE format('%I::text', s.status_col) END,
               s.sch, s.tbl),
        false, false, '') AS doc
    CROSS JOIN LATERAL XMLTABLE('/table/row' PASSING doc COLUMNS code text PATH 'code', status text PATH 'status') AS x
), held AS (
    SELECT * FROM unnest($6::text[], $7::text[]) AS h(code, blueprint)
)
SELECT h.code, 'registry', 'row', format('%s.%s (%s = %L)', s.sch, s.tbl, s.code_col, h.code),
       format('tenant %s is registered (shared.tenants) but %s.%s has no row with %s = %L', h.code, s.sch, s.tbl,
              s.code_col, h.code)
FROM held h JOIN spec s ON s.blueprint = h.blueprint
WHERE NOT EXISTS (SELECT 1 FROM tenant_rows r WHERE r.blueprint = h.blueprint AND r.code = h.code)
UNION ALL
SELECT h.code, 'registry', 'row', format('%s.%s (%s = %L)', s.sch, s.tbl, s.code_col, h.code),
       format('tenant %s is active in shared.tenants but its row in %s.%s has %s = %L', h.code, s.sch, s.tbl,
              s.status_col, r.status)
FROM held h JOIN spec s ON s.blueprint = h.blueprint
JOIN tenant_rows r ON r.blueprint = h.blueprint AND r.code = h.code
WHERE s.status_col IS NOT NULL AND r.status IS DISTINCT FROM 'active'
UNION ALL
SELECT 'row:' || s.blueprint, 'registry', 'row', format('%s.%s (%s = %L)', s.sch, s.tbl, s.code_col, r.code),
       format('%s.%s has a row with %s = %L but no tenant of blueprint %s is registered with that code '
                  || '(shared.tenants): register it with `provision tenant add` or delete the row',
              s.sch, s.tbl, s.code_col, r.code, s.blueprint)
FROM tenant_rows r JOIN spec s ON s.blueprint = r.blueprint
WHERE $8::bool
  AND NOT EXISTS (SELECT 1 FROM shared.tenants t WHERE t.tenant_code = r.code AND t.blueprint = r.blueprint)
UNION ALL
SELECT 'row:' || s.blueprint, 'registry', 'table', s.sch || '.' || s.tbl,
       format('cannot match the tenants with the rows of %s.%s: row level security filters what %s reads '
                  || '(verify as a superuser or a BYPASSRLS role)', s.sch, s.tbl, current_user)
FROM given s
WHERE pg_catalog.to_regclass(format('%I.%I', s.sch, s.tbl)) IS NOT NULL
  AND pg_catalog.row_security_active(format('%I.%I', s.sch, s.tbl))
ORDER BY 1, 4
