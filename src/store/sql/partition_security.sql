-- Partitions inherit neither the row-level-security flags nor the policies
-- of their parent: a query that names a partition directly would escape
-- isolation. For every partition in the given schemas whose root has RLS,
-- this yields the missing ENABLE / FORCE and a copy of every root policy
-- the partition lacks (by name), each to be run by the partition's owner.
-- Nor are statement-level triggers cloned (PostgreSQL clones row triggers
-- only): a pack's `BEFORE TRUNCATE … FOR EACH STATEMENT` guard on its
-- append-only table would not stop a TRUNCATE of one partition by name. So
-- every partition also gets a copy of each statement-level trigger of its
-- root that it lacks (by name), whether or not the root has RLS.
-- $1 schemas; $2 only these partitions (qualified names), or NULL for all —
-- rollover passes the ones it just made, so the scan does not grow with
-- every tenant's audit log in the shared audit schema.
WITH candidates AS (
    -- The given partitions, looked up by name (an index), or every relation
    -- of the schemas (a scan of pg_class, which has no index on namespace).
    -- (IN, not a join: a name may be given twice.)
    SELECT c.* FROM pg_catalog.pg_class c
    WHERE c.oid IN (SELECT pg_catalog.to_regclass(x) FROM unnest($2::text[]) AS x)
    UNION ALL
    SELECT c.* FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE $2::text[] IS NULL AND n.nspname = ANY ($1::text[])
), parts AS (
    SELECT c.oid, c.relname, n.nspname, c.relowner, c.relrowsecurity, c.relforcerowsecurity,
           pg_catalog.pg_partition_root(c.oid) AS root
    FROM candidates c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY ($1::text[]) AND c.relispartition AND c.relkind IN ('r', 'p')
), stmt_triggers AS (
    -- The root's statement-level triggers the partition lacks, with the
    -- root's definition re-aimed at the partition: the text after the
    -- trigger's name, where ` ON <root> ` is replaced by ` ON <partition> `.
    SELECT parts.oid, parts.nspname, parts.relname, parts.relowner, t.tgname,
           'CREATE TRIGGER ' || quote_ident(t.tgname) || ' ' AS head,
           substr(pg_catalog.pg_get_triggerdef(t.oid), length('CREATE TRIGGER ' || quote_ident(t.tgname) || ' ') + 1) AS tail,
           ' ON ' || format('%I.%I', rn.nspname, r.relname) || ' ' AS root_on
    FROM parts
    JOIN pg_catalog.pg_class r ON r.oid = parts.root
    JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
    JOIN pg_catalog.pg_trigger t ON t.tgrelid = parts.root
    WHERE NOT t.tgisinternal AND t.tgconstraint = 0 AND (t.tgtype & 1) = 0
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = parts.oid AND g.tgname = t.tgname)
), secured AS (
    SELECT parts.*, r.relrowsecurity AS root_rls, r.relforcerowsecurity AS root_force,
           rn.nspname AS root_schema, r.relname AS root_name
    FROM parts
    JOIN pg_catalog.pg_class r ON r.oid = parts.root
    JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
    WHERE r.relrowsecurity
)
SELECT pg_catalog.pg_get_userbyid(relowner) AS owner,
       format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', nspname, relname) AS ddl
FROM secured WHERE NOT relrowsecurity
UNION ALL
SELECT pg_catalog.pg_get_userbyid(relowner), format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', nspname, relname)
FROM secured WHERE root_force AND NOT relforcerowsecurity
UNION ALL
SELECT pg_catalog.pg_get_userbyid(s.relowner),
       format('CREATE POLICY %I ON %I.%I AS %s FOR %s TO %s%s%s',
              pol.policyname, s.nspname, s.relname, pol.permissive, pol.cmd,
              (SELECT string_agg(CASE r WHEN 'public' THEN 'PUBLIC' ELSE quote_ident(r) END, ', ') FROM unnest(pol.roles) AS r),
              CASE WHEN pol.qual IS NOT NULL THEN ' USING (' || pol.qual || ')' ELSE '' END,
              CASE WHEN pol.with_check IS NOT NULL THEN ' WITH CHECK (' || pol.with_check || ')' ELSE '' END)
FROM secured s
JOIN pg_catalog.pg_policies pol ON pol.schemaname = s.root_schema AND pol.tablename = s.root_name
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy q WHERE q.polrelid = s.oid AND q.polname = pol.policyname)
UNION ALL
SELECT pg_catalog.pg_get_userbyid(relowner),
       head || overlay(tail PLACING format(' ON %I.%I ', nspname, relname) FROM strpos(tail, root_on) FOR length(root_on))
FROM stmt_triggers
WHERE strpos(tail, root_on) > 0
