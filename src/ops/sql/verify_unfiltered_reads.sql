-- Ways a tenant's app or read-only role reads rows that row level security
-- never filters, for every tenant at once. PostgreSQL has no RLS on
-- materialized views or foreign tables, and a view that is not
-- security_invoker reads as its owner. So a finding is:
--   * a materialized view or foreign table of the tenant's schema that
--     <code>_app or <code>_ro can SELECT directly (table or column grant,
--     through membership or PUBLIC: has_any_column_privilege says);
--   * a view of the tenant's schema those roles can SELECT that is not
--     security_invoker and reads, directly or through other views, a
--     materialized view or foreign table, a table without RLS ENABLEd and
--     FORCEd, or any RLS table when its owner is superuser or BYPASSRLS.
--     A table without RLS that the role could SELECT directly anyway is not
--     counted: the view adds no way in (such a table is its own finding).
-- Each row: (scope, check, kind, object, problem). $1 codes, $2 schemas.
WITH t AS (
    SELECT * FROM unnest($1::text[], $2::text[]) AS t(code, sch)
), rels AS (
    SELECT t.code, c.oid, c.relkind, c.relowner, n.nspname || '.' || c.relname AS name,
           coalesce((SELECT o.option_value::bool FROM pg_catalog.pg_options_to_table(c.reloptions) o
                     WHERE o.option_name = 'security_invoker'), false) AS invoker
    FROM t JOIN pg_catalog.pg_namespace n ON n.nspname = t.sch
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('v', 'm', 'f')
), readers AS (
    -- Who can SELECT what: each relation against its own tenant's two roles.
    SELECT r.code, r.oid, a.oid AS reader, a.rolname::text AS role
    FROM rels r
    CROSS JOIN unnest(ARRAY['_app', '_ro']) AS suffix
    JOIN pg_catalog.pg_roles a ON a.rolname = r.code || suffix
    WHERE pg_catalog.has_any_column_privilege(a.oid, r.oid, 'SELECT')
), reads AS (
    -- (view, relation): what each definer view reads, through other views.
    WITH RECURSIVE dep(view, rel) AS (
        SELECT r.oid, d.refobjid
        FROM rels r
        JOIN pg_catalog.pg_rewrite w ON w.ev_class = r.oid
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
                                   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> r.oid
        WHERE r.relkind = 'v' AND NOT r.invoker
        UNION
        SELECT dep.view, d.refobjid
        FROM dep
        JOIN pg_catalog.pg_class c ON c.oid = dep.rel AND c.relkind = 'v'
        JOIN pg_catalog.pg_rewrite w ON w.ev_class = c.oid
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
                                   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> c.oid
    )
    SELECT * FROM dep
), unfiltered AS (
    -- (view, relation, why): relations a definer view reads without RLS.
    SELECT r.oid AS view, c.oid AS rel, c.relkind, c.relrowsecurity AND c.relforcerowsecurity AS has_rls,
           CASE WHEN c.relkind = 'm' THEN 'a materialized view, which has no row level security'
                WHEN c.relkind = 'f' THEN 'a foreign table, which has no row level security'
                WHEN NOT (c.relrowsecurity AND c.relforcerowsecurity) THEN 'a table without row level security ENABLEd and FORCEd'
                ELSE 'as ' || o.rolname || ', who bypasses row level security'
           END AS why
    FROM rels r
    JOIN reads ON reads.view = r.oid
    JOIN pg_catalog.pg_class c ON c.oid = reads.rel
    JOIN pg_catalog.pg_roles o ON o.oid = r.relowner
    WHERE c.relkind IN ('m', 'f')
       OR (c.relkind IN ('r', 'p') AND (NOT (c.relrowsecurity AND c.relforcerowsecurity) OR o.rolsuper OR o.rolbypassrls))
)
SELECT r.code, 'rls', CASE r.relkind WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END, r.name,
       string_agg(rd.role, ' and ' ORDER BY rd.role) || ' can SELECT it directly, but a '
           || CASE r.relkind WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END
           || ' has no row level security: every row shows whatever app.tenant_id says (revoke SELECT and expose it '
           || 'through a security_invoker view or a function that filters by app.tenant_id)'
FROM rels r JOIN readers rd ON rd.oid = r.oid
WHERE r.relkind IN ('m', 'f')
GROUP BY r.code, r.relkind, r.name
UNION ALL
SELECT r.code, 'rls', 'view', r.name,
       string_agg(DISTINCT rd.role, ' and ') || ' can SELECT it, and it is not security_invoker: it reads '
           || string_agg(DISTINCT u.rel::regclass::text || ' (' || u.why || ')', ', ')
           || ' with its owner''s rights, so row level security does not filter what it shows'
FROM rels r
JOIN readers rd ON rd.oid = r.oid
JOIN unfiltered u ON u.view = r.oid
WHERE r.relkind = 'v'
  AND (u.relkind IN ('m', 'f') OR u.has_rls OR NOT pg_catalog.has_any_column_privilege(rd.reader, u.rel, 'SELECT'))
GROUP BY r.code, r.name
