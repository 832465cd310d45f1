-- Invariants no template can express, for every tenant at once. Each row is
-- a violation: (scope, check, kind, object, problem); scope 'shared' for the
-- shared schemas. $1 codes, $2 schemas, $3 whether the tenant is audited,
-- $4/$5 (code, table) pairs excluded from audit, $6 the shared schemas
-- (provision's own and those the blueprints in use declare).
WITH t AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::bool[]) AS t(code, sch, audited)
), ex AS (
    SELECT * FROM unnest($4::text[], $5::text[]) AS e(code, tbl)
), roles AS (
    SELECT t.code, t.code || suffix AS role, suffix FROM t, unnest(ARRAY['_owner', '_app', '_ro']) AS suffix
), reach AS (
    -- (holder, source): holder can use the privileges granted to source.
    -- NOINHERIT does not stop it: a member may always SET ROLE.
    WITH RECURSIVE chain(holder, source) AS (
        SELECT a.oid, a.oid FROM pg_catalog.pg_roles a JOIN roles r ON r.role = a.rolname
        UNION
        SELECT chain.holder, m.roleid FROM chain
        JOIN pg_catalog.pg_auth_members m ON m.member = chain.source
    )
    SELECT * FROM chain
), own AS (
    SELECT r.code, a.oid FROM roles r JOIN pg_catalog.pg_roles a ON a.rolname = r.role
), grants AS (
    -- Every grant on a tenant schema or on a relation in one, but to the
    -- tenant's own roles (almost all of them, and never a problem).
    SELECT * FROM (
        SELECT t.code, 'schema' AS kind, n.nspname::text AS object, acl.grantee
        FROM t JOIN pg_catalog.pg_namespace n ON n.nspname = t.sch
        CROSS JOIN LATERAL aclexplode(n.nspacl) AS acl
        UNION ALL
        SELECT t.code, 'table', t.sch || '.' || c.relname, acl.grantee
        FROM t JOIN pg_catalog.pg_namespace n ON n.nspname = t.sch
        JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm')
        CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
    ) every_grant
    WHERE NOT EXISTS (SELECT 1 FROM own WHERE own.code = every_grant.code AND own.oid = every_grant.grantee)
), tables AS (
    SELECT t.code, t.audited, c.oid, n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
           CASE WHEN c.relispartition THEN pg_catalog.pg_partition_root(c.oid) END AS root
    FROM t JOIN pg_catalog.pg_namespace n ON n.nspname = t.sch
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
    WHERE c.relkind IN ('r', 'p') AND c.relname <> 'refinery_schema_history'
), scoped AS (
    -- Every schema verify answers for, with the scope it reports under.
    SELECT t.code AS scope, n.oid AS nsp, n.nspname FROM t JOIN pg_catalog.pg_namespace n ON n.nspname = t.sch
    UNION ALL
    SELECT 'shared', n.oid, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY ($6::text[])
)
SELECT code, 'rls', 'table', nspname || '.' || relname, 'row level security is not ENABLEd and FORCEd'
FROM tables WHERE NOT (relrowsecurity AND relforcerowsecurity)
UNION ALL
SELECT tb.code, 'audit', 'table', tb.nspname || '.' || tb.relname, 'the audit trigger audit_row_change is missing'
FROM tables tb JOIN pg_catalog.pg_class r ON r.oid = coalesce(tb.root, tb.oid)
WHERE tb.audited
  AND NOT EXISTS (SELECT 1 FROM ex WHERE ex.code = tb.code AND ex.tbl = r.relname)
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = r.oid AND i.indisprimary)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = tb.oid AND g.tgname = 'audit_row_change')
UNION ALL
-- PostgreSQL does not clone statement-level triggers onto partitions (a
-- pack's TRUNCATE guard on its append-only table): each partition must carry
-- a copy of its root's, or it can be truncated by name. (The audit log's are
-- checked by verify_audit_guards.sql.)
SELECT tb.code, 'partitions', 'table', tb.nspname || '.' || tb.relname,
       'the statement-level trigger ' || g.tgname || ' of its parent is missing (PostgreSQL does not copy it onto '
           || 'partitions; `provision up` does)'
FROM tables tb JOIN pg_catalog.pg_trigger g ON g.tgrelid = tb.root
WHERE NOT g.tgisinternal AND g.tgconstraint = 0 AND (g.tgtype & 1) = 0
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger p WHERE p.tgrelid = tb.oid AND p.tgname = g.tgname)
UNION ALL
SELECT s.scope, 'indexes', 'index', s.nspname || '.' || c.relname, 'the index is INVALID (a failed CREATE INDEX CONCURRENTLY?)'
FROM scoped s JOIN pg_catalog.pg_class c ON c.relnamespace = s.nsp JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
WHERE NOT i.indisvalid
UNION ALL
SELECT s.scope, 'constraints', 'constraint', s.nspname || '.' || r.relname || '.' || co.conname, 'the constraint is NOT VALID'
FROM scoped s JOIN pg_catalog.pg_class r ON r.relnamespace = s.nsp JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
WHERE NOT co.convalidated
UNION ALL
SELECT r.code, 'roles', 'role', r.role,
       concat_ws(', ', CASE WHEN a.rolsuper THEN 'is superuser' END, CASE WHEN a.rolbypassrls THEN 'bypasses RLS' END,
                 CASE WHEN a.rolcanlogin THEN 'can log in' END)
FROM roles r JOIN pg_catalog.pg_roles a ON a.rolname = r.role
WHERE a.rolsuper OR a.rolbypassrls OR a.rolcanlogin
UNION ALL
SELECT r.code, 'roles', 'role', r.role, 'does not exist'
FROM roles r WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname = r.role)
UNION ALL
-- App and read-only roles own nothing: one pass over each catalog. (Names
-- are made only for what is found: regclass/regprocedure output for every
-- object of the database would cost more than the rest of this query.)
SELECT r.code, 'roles', 'role', r.role,
       'owns ' || CASE owned.catalog WHEN 'relation' THEN 'relation ' || owned.oid::regclass::text
                                     WHEN 'function' THEN 'function ' || owned.oid::regprocedure::text
                                     ELSE 'schema ' || owned.oid::regnamespace::text END
FROM (
    SELECT c.relowner AS owner, 'relation' AS catalog, c.oid FROM pg_catalog.pg_class c
    UNION ALL
    SELECT p.proowner, 'function', p.oid FROM pg_catalog.pg_proc p
    UNION ALL
    SELECT n.nspowner, 'schema', n.oid FROM pg_catalog.pg_namespace n
) owned
JOIN pg_catalog.pg_roles a ON a.oid = owned.owner
JOIN roles r ON r.role = a.rolname AND r.suffix <> '_owner'
UNION ALL
-- Cross-tenant privileges, from the ACLs themselves: a tenant role that can
-- use (directly or through role membership) a grant on another tenant's
-- schema or relation. Set-based, so it does not grow as roles x tables.
SELECT r.code, 'privileges', g.kind, g.object,
       r.role || ' has privileges on another tenant''s ' || g.kind
           || CASE WHEN reach.source <> a.oid THEN ' (through ' || reach.source::regrole::text || ')' ELSE '' END
FROM roles r
JOIN pg_catalog.pg_roles a ON a.rolname = r.role
JOIN reach ON reach.holder = a.oid
JOIN grants g ON g.grantee = reach.source AND g.code <> r.code
UNION ALL
-- A grant to PUBLIC reaches every role: reported once per tenant role.
-- (Kept apart from the join above: an OR there defeats the hash join.)
SELECT r.code, 'privileges', g.kind, g.object, 'PUBLIC (so ' || r.role || ') has privileges on another tenant''s ' || g.kind
FROM roles r JOIN grants g ON g.grantee = 0 AND g.code <> r.code
UNION ALL
SELECT t.code, 'functions', 'function',
       t.sch || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', 'search_path is not pinned (SET search_path = …)'
FROM t JOIN pg_catalog.pg_namespace n ON n.nspname = t.sch JOIN pg_catalog.pg_proc p ON p.pronamespace = n.oid
WHERE NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
