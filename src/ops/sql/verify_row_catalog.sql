-- Row tenancy (issue 14): what keeps one row blueprint's tenants apart, read from the catalog of its `[row] schema`,
-- whatever the number of tenants. Each row is a violation: (scope, check, kind, object, problem).
-- $1 the blueprint (the scope), $2 [row] schema, $3 [row] table, $4 [row] key, $5 [row] column,
-- $6 [row] reference, $7 [row] keep.
-- Every ordinary or partitioned table of the schema is the tenant table, a reference table, or holds tenant data
-- (a `keep` table too): those carry the tenant column. The tenant table and the tenant-data tables (their partitions
-- too: a partition read by name is filtered by its own policies, not its parent's) have RLS ENABLEd and FORCEd and,
-- for every command, a RESTRICTIVE policy for PUBLIC that reads the tenant column (the tenant table: its key).
-- PostgreSQL records the columns a policy reads in pg_depend (classid pg_policy, refobjsubid the attnum). A foreign
-- key between tenant-data tables holds the tenant column on both sides at the same position, one to the tenant table
-- maps the tenant column to the key, every tenant-data table but the kept ones references the tenant table that way,
-- and a kept table does not reference it at all (its rows outlive the tenant).
WITH spec AS (
    SELECT $1::text AS scope, $2::text AS sch, $3::text AS tenant_table, $4::text AS key, $5::text AS col,
           $6::text[] AS reference, $7::text[] AS keep
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
SELECT scope, 'structure', 'schema', sch, 'the schema ' || sch || ' of [row] does not exist (run `provision up`)'
FROM spec WHERE NOT EXISTS (SELECT 1 FROM nsp)
UNION ALL
SELECT nsp.scope, 'structure', 'table', nsp.sch || '.' || declared.name,
       'the [row] ' || declared.what || ' table ' || nsp.sch || '.' || declared.name || ' does not exist'
FROM nsp CROSS JOIN LATERAL (
    SELECT nsp.tenant_table, 'tenant'
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
SELECT nsp.scope, 'rls', 'table', t.qualified,
       'row level security is not ENABLEd and FORCEd on ' || t.qualified || ' ('
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
ORDER BY 2, 4, 5
