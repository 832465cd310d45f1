-- Row tenancy (issue 14): what keeps one row blueprint's tenants apart, read from the catalog of its `[row] schema`,
-- whatever the number of tenants. Each row is a violation: (scope, check, kind, object, problem).
-- $1 the blueprint (the scope), $2 [row] schema, $3 [row] table, $4 [row] key, $5 [row] column,
-- $6 [row] reference, $7 [row] keep, $8 [row] code, $9 [row] status (NULL when none).
-- Every ordinary or partitioned table of the schema is the tenant table, a reference table, or holds tenant data
-- (a `keep` table too): those carry the tenant column. The tenant table and the tenant-data tables (their partitions
-- too: a partition read by name is filtered by its own policies, not its parent's) have RLS ENABLEd and FORCEd and,
-- for every command, a RESTRICTIVE policy for PUBLIC that reads the tenant column (the tenant table: its key).
-- PostgreSQL records the columns a policy reads in pg_depend (classid pg_policy, refobjsubid the attnum). A foreign
-- key between tenant-data tables holds the tenant column on both sides at the same position, one to the tenant table
-- maps the tenant column to the key, every tenant-data table but the kept ones references the tenant table that way,
-- and a kept table does not reference it at all (its rows outlive the tenant). A command no permissive policy lets
-- through needs no restrictive one (row level security denies it anyway: a partition with no policies of its own).
-- Nothing the tenant group roles can SELECT reads those tables around their policies: a materialized view (no row
-- level security) or a view that is not security_invoker (it reads with its owner's rights), directly or through
-- other views; nor a foreign table, whose rows nothing filters (as verify_unfiltered_reads.sql for schema tenants).
WITH spec AS (
    SELECT $1::text AS scope, $2::text AS sch, $3::text AS tenant_table, $4::text AS key, $5::text AS col,
           $6::text[] AS reference, $7::text[] AS keep, $8::text AS code, $9::text AS status
), nsp AS (
    SELECT n.oid, spec.* FROM spec JOIN pg_catalog.pg_namespace n ON n.nspname = spec.sch
), tables AS (
    SELECT c.oid, c.relname::text AS name, nsp.sch || '.' || c.relname AS qualified, c.relispartition AS partition,
           c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
           CASE WHEN r.relname = nsp.tenant_table THEN 'tenant'
                WHEN r.relname = ANY (nsp.reference) THEN 'reference'
                WHEN r.relname = ANY (nsp.keep) THEN 'keep'
                ELSE 'data' END AS role,
           CASE WHEN r.relname = nsp.tenant_table THEN nsp.key ELSE nsp.col END AS tenant_column,
           a.attnum AS tenant_attnum
    FROM nsp
    JOIN pg_catalog.pg_class c ON c.relnamespace = nsp.oid AND c.relkind IN ('r', 'p')
    JOIN pg_catalog.pg_class r ON r.oid = CASE WHEN c.relispartition THEN pg_catalog.pg_partition_root(c.oid) ELSE c.oid END
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped AND a.attnum > 0
         AND a.attname = CASE WHEN r.relname = nsp.tenant_table THEN nsp.key ELSE nsp.col END
), guarded AS (
    -- The tables RLS must guard, with their tenant column.
    SELECT * FROM tables WHERE role <> 'reference' AND tenant_attnum IS NOT NULL
), commands AS (
    SELECT * FROM (VALUES (1, 'r', 'SELECT'), (2, 'a', 'INSERT'), (3, 'w', 'UPDATE'), (4, 'd', 'DELETE')) AS c(n, cmd, verb)
), exposed AS (
    -- The schema's views, materialized views and foreign tables, with the tenant group roles that can SELECT them.
    SELECT c.oid, c.relkind, nsp.sch || '.' || c.relname AS qualified,
           coalesce((SELECT o.option_value::bool FROM pg_catalog.pg_options_to_table(c.reloptions) o
                     WHERE o.option_name = 'security_invoker'), false) AS invoker,
           (SELECT string_agg(g, ' and ' ORDER BY g)
            FROM unnest(ARRAY['provision_tenant_apps', 'provision_tenant_readers']) AS g
            WHERE pg_catalog.has_any_column_privilege(g, c.oid, 'SELECT')) AS readers
    FROM nsp JOIN pg_catalog.pg_class c ON c.relnamespace = nsp.oid AND c.relkind IN ('v', 'm', 'f')
), reads AS (
    -- (relation, what it reads): what each definer view or materialized view reads, through other views.
    WITH RECURSIVE dep(rel, reads) AS (
        SELECT e.oid, d.refobjid
        FROM exposed e
        JOIN pg_catalog.pg_rewrite w ON w.ev_class = e.oid
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
                                   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> e.oid
        WHERE e.readers IS NOT NULL AND (e.relkind = 'm' OR NOT e.invoker)
        UNION
        SELECT dep.rel, d.refobjid
        FROM dep
        JOIN pg_catalog.pg_class c ON c.oid = dep.reads AND c.relkind = 'v'
        JOIN pg_catalog.pg_rewrite w ON w.ev_class = c.oid
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
                                   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> c.oid
    )
    SELECT * FROM dep
), fks AS (
    -- Foreign keys of the schema's tables (not the copies partitions inherit) to its tenant-data or tenant table.
    SELECT ch.qualified || '.' || co.conname AS object, ch.name AS child, ch.role AS child_role, pa.name AS parent,
           pa.role AS parent_role, ch.tenant_column AS child_column, pa.tenant_column AS parent_column,
           EXISTS (SELECT 1 FROM generate_subscripts(co.conkey, 1) AS i
                   WHERE co.conkey[i] = ch.tenant_attnum AND co.confkey[i] = pa.tenant_attnum) AS carries_tenant,
           co.confrelid
    FROM tables ch
    JOIN pg_catalog.pg_constraint co ON co.conrelid = ch.oid AND co.contype = 'f' AND co.conparentid = 0
    JOIN tables pa ON pa.oid = co.confrelid AND NOT pa.partition
    WHERE NOT ch.partition AND ch.role IN ('data', 'keep') AND pa.role <> 'reference'
      AND ch.tenant_attnum IS NOT NULL AND pa.tenant_attnum IS NOT NULL
)
SELECT scope, 'structure', 'schema', sch, sch || ' (the [row] schema) does not exist (run `provision up`)'
FROM spec WHERE NOT EXISTS (SELECT 1 FROM nsp)
UNION ALL
SELECT nsp.scope, 'structure', 'table', nsp.sch || '.' || declared.name,
       nsp.sch || '.' || declared.name || ' does not exist (declared in [row] ' || declared.what || ')'
FROM nsp CROSS JOIN LATERAL (
    SELECT nsp.tenant_table, 'table'
    UNION ALL SELECT unnest(nsp.reference), 'reference'
    UNION ALL SELECT unnest(nsp.keep), 'keep'
) AS declared(name, what)
WHERE NOT EXISTS (SELECT 1 FROM tables t WHERE t.name = declared.name AND NOT t.partition)
UNION ALL
SELECT nsp.scope, 'structure', 'table', t.qualified,
       CASE t.role
           WHEN 'tenant' THEN t.qualified || ' (the [row] table) has no ' || t.tenant_column || ' column ([row] key)'
           WHEN 'keep' THEN t.qualified || ' ([row] keep) has no ' || t.tenant_column || ' column; add it'
           ELSE t.qualified || ' has no ' || t.tenant_column || ' column; add it or declare it in [row] reference'
       END
FROM nsp JOIN tables t ON t.tenant_attnum IS NULL AND t.role <> 'reference' AND NOT t.partition
UNION ALL
-- The columns the registry check reads (verify_row_registry.sql skips a table without them).
SELECT nsp.scope, 'structure', 'table', t.qualified,
       t.qualified || ' (the [row] table) has no ' || wanted.name || ' column ([row] ' || wanted.what || ')'
FROM nsp JOIN tables t ON t.role = 'tenant' AND NOT t.partition
CROSS JOIN LATERAL (VALUES (nsp.code, 'code'), (nsp.status, 'status')) AS wanted(name, what)
WHERE wanted.name IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = t.oid AND a.attname = wanted.name AND NOT a.attisdropped AND a.attnum > 0)
UNION ALL
SELECT nsp.scope, 'rls', 'table', t.qualified,
       t.qualified || ' has row level security not ENABLEd and FORCEd ('
           || concat_ws(', ', CASE WHEN NOT t.rls THEN 'not enabled' END, CASE WHEN NOT t.forced THEN 'not forced' END)
           || ')'
FROM nsp JOIN guarded t ON NOT (t.rls AND t.forced)
UNION ALL
SELECT nsp.scope, 'rls', 'policy', t.qualified,
       t.qualified || ' has no RESTRICTIVE policy for PUBLIC on ' || t.tenant_column || ' that applies to '
           || string_agg(c.verb, ', ' ORDER BY c.n)
FROM nsp JOIN guarded t ON true CROSS JOIN commands c
WHERE NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_policy p
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::regclass AND d.objid = p.oid
         AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = t.oid AND d.refobjsubid = t.tenant_attnum
    WHERE p.polrelid = t.oid AND NOT p.polpermissive AND p.polcmd IN ('*', c.cmd) AND 0::oid = ANY (p.polroles))
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = t.oid AND p.polpermissive AND p.polcmd IN ('*', c.cmd))
GROUP BY nsp.scope, t.qualified, t.tenant_column
UNION ALL
SELECT nsp.scope, 'constraints', 'constraint', f.object,
       CASE WHEN f.parent_role = 'tenant'
            THEN f.object || ' references the [row] table ' || nsp.sch || '.' || f.parent || ' from a '
                 || f.child || ' column other than ' || f.child_column || ' (to ' || f.parent_column
                 || '): a row could point at another tenant'
            ELSE f.object || ' references ' || nsp.sch || '.' || f.parent || ' without ' || f.child_column
                 || ' on both sides at the same position: make it composite, (…, ' || f.child_column
                 || ') REFERENCES ' || f.parent || ' (…, ' || f.parent_column || ')'
       END
FROM nsp JOIN fks f ON NOT f.carries_tenant
WHERE NOT (f.child_role = 'keep' AND f.parent_role = 'tenant')
UNION ALL
SELECT nsp.scope, 'constraints', 'constraint', f.object,
       f.object || ' references the [row] table ' || nsp.sch || '.' || f.parent || ' from a [row] keep table, '
           || 'whose rows must outlive their tenant: drop the foreign key'
FROM nsp JOIN fks f ON f.child_role = 'keep' AND f.parent_role = 'tenant'
UNION ALL
SELECT nsp.scope, 'constraints', 'table', t.qualified,
       t.qualified || ' has no foreign key (' || t.tenant_column || ') REFERENCES ' || nsp.tenant_table || ' ('
           || nsp.key || ')'
FROM nsp JOIN tables t ON t.role = 'data' AND NOT t.partition AND t.tenant_attnum IS NOT NULL
WHERE EXISTS (SELECT 1 FROM tables tt WHERE tt.role = 'tenant' AND NOT tt.partition AND tt.tenant_attnum IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM fks f WHERE f.child = t.name AND f.parent_role = 'tenant' AND f.carries_tenant)
UNION ALL
SELECT nsp.scope, 'rls', CASE e.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, e.qualified,
       e.qualified || ' reads ' || string_agg(DISTINCT t.qualified, ', ')
           || CASE e.relkind WHEN 'v' THEN ' with its owner''s rights (it is not security_invoker)'
                             ELSE ' into a materialized view, which has no row level security' END
           || ', and ' || e.readers || ' can SELECT it: row level security does not filter what it shows'
FROM nsp JOIN exposed e ON true JOIN reads r ON r.rel = e.oid JOIN tables t ON t.oid = r.reads AND t.role <> 'reference'
GROUP BY nsp.scope, e.relkind, e.qualified, e.readers
UNION ALL
SELECT nsp.scope, 'rls', 'foreign table', e.qualified,
       e.qualified || ' is a foreign table, which has no row level security, and ' || e.readers || ' can SELECT it'
FROM nsp JOIN exposed e ON e.relkind = 'f' AND e.readers IS NOT NULL
ORDER BY 2, 4, 5
