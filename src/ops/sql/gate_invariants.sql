-- The isolation invariants of ONE tenant schema, for the template safety gate
-- (src/gate): run on a reference tenant after each template version, and on
-- every real tenant just before its transaction commits, so it must stay
-- cheap on a database of 1000 tenants. Every lookup goes through an index:
-- the schema's members through pg_depend (each has a dependency on its
-- namespace), then triggers, policies and ACLs by object. (Filtering pg_class
-- on relnamespace would scan every tenant's relations.)
-- Each row is a violation: (invariant, kind, object, problem).
-- $1 schema; $2 tenant code (its roles are <code>_owner/_app/_ro, its UUID is
-- read from the registry); $3 whether the blueprint is audited; $4 tables
-- excluded from audit.
WITH n AS (
    SELECT oid, nspname, nspowner, nspacl FROM pg_catalog.pg_namespace WHERE nspname = $1::text
), member AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d JOIN n ON d.refobjid = n.oid
    WHERE d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.deptype = 'n'
), role AS (
    SELECT (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $2::text || '_owner') AS owner,
           (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $2::text || '_app') AS app,
           (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $2::text || '_ro') AS ro,
           (SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = $2::text) AS tenant_id
), rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relowner, c.relacl, c.relrowsecurity, c.relforcerowsecurity,
           c.relispartition, n.nspname || '.' || c.relname AS object
    FROM member m JOIN pg_catalog.pg_class c ON c.oid = m.objid CROSS JOIN n
    WHERE m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
), tbl AS (
    -- refinery's history table is provision's bookkeeping, not tenant data.
    SELECT * FROM rel WHERE relkind IN ('r', 'p') AND relname <> 'refinery_schema_history'
), fn AS (
    SELECT p.oid, p.proowner, p.proacl, p.proconfig, p.prokind,
           n.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS object
    FROM member m JOIN pg_catalog.pg_proc p ON p.oid = m.objid CROSS JOIN n
    WHERE m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
), typ AS (
    -- Enums, domains and standalone composite types (a table's row type
    -- and array types depend on their table or element, not the schema).
    SELECT t.typowner, n.nspname || '.' || t.typname AS object
    FROM member m JOIN pg_catalog.pg_type t ON t.oid = m.objid CROSS JOIN n
    WHERE m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
), default_acl AS (
    -- What ALTER DEFAULT PRIVILEGES FOR ROLE <code>_owner IN SCHEMA gives
    -- the app and read-only roles on new tables: (grantee, privilege).
    SELECT acl.grantee, acl.privilege_type
    FROM pg_catalog.pg_default_acl d CROSS JOIN n CROSS JOIN role
    CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) AS acl
    WHERE d.defaclrole = role.owner AND d.defaclnamespace = n.oid AND d.defaclobjtype = 'r'
      AND acl.grantee IN (role.app, role.ro)
), table_acl AS (
    SELECT tbl.oid, tbl.relkind, tbl.object, acl.grantee, acl.privilege_type
    FROM rel tbl CROSS JOIN role
    CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(tbl.relacl, pg_catalog.acldefault('r', tbl.relowner))) AS acl
    WHERE tbl.relkind IN ('r', 'p', 'v', 'm', 'f') AND tbl.relname <> 'refinery_schema_history'
      AND acl.grantee IN (role.app, role.ro)
), isolation_policy AS MATERIALIZED (
    -- Materialized: deparsing each policy once, not once per table.
    SELECT pol.polrelid
    FROM tbl JOIN pg_catalog.pg_policy pol ON pol.polrelid = tbl.oid CROSS JOIN role
    WHERE pol.polname = 'tenant_isolation' AND NOT pol.polpermissive AND pol.polcmd = '*'
      AND pol.polroles = '{0}'
      AND position(role.tenant_id IN pg_catalog.pg_get_expr(pol.polqual, pol.polrelid)) > 0
      -- FOR ALL without WITH CHECK checks new rows with USING.
      AND position(role.tenant_id IN pg_catalog.pg_get_expr(coalesce(pol.polwithcheck, pol.polqual), pol.polrelid)) > 0
)
SELECT 'row level security' AS invariant, 'table' AS kind, object,
       'row level security is not ENABLEd and FORCEd' AS problem
FROM tbl WHERE NOT (relrowsecurity AND relforcerowsecurity)
UNION ALL
SELECT 'tenant policy', 'table', object,
       'no restrictive policy tenant_isolation (FOR ALL, TO PUBLIC, on the tenant''s app.tenant_id)'
FROM tbl WHERE NOT EXISTS (SELECT 1 FROM isolation_policy ip WHERE ip.polrelid = tbl.oid)
UNION ALL
SELECT 'audit trigger', 'table', tbl.object, 'the audit trigger audit_row_change is missing or disabled'
FROM tbl
WHERE $3::bool
  AND tbl.relname <> ALL ($4::text[])
  AND NOT tbl.relispartition
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = tbl.oid AND i.indisprimary)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                  WHERE g.tgrelid = tbl.oid AND g.tgname = 'audit_row_change' AND g.tgenabled <> 'D')
UNION ALL
-- The app and read-only roles hold at most what the default privileges
-- give them. Fewer is no isolation breach (a derived table may refuse
-- the app's writes on purpose); verify's reference comparison reports a
-- grant a tenant lost against its blueprint.
SELECT 'grants', 'relation', object, 'has ' || string_agg(DISTINCT privilege, ', ') || ' beyond the default privileges'
FROM (
    SELECT a.object, pg_catalog.pg_get_userbyid(a.grantee) || ' ' || a.privilege_type AS privilege
    FROM table_acl a
    WHERE NOT EXISTS (SELECT 1 FROM default_acl d WHERE d.grantee = a.grantee AND d.privilege_type = a.privilege_type)
) extra GROUP BY object
UNION ALL
SELECT 'owner', 'schema', n.nspname, 'owned by ' || pg_catalog.pg_get_userbyid(n.nspowner) || ', not ' || $2::text || '_owner'
FROM n CROSS JOIN role WHERE n.nspowner IS DISTINCT FROM role.owner
UNION ALL
SELECT 'owner', 'relation', object, 'owned by ' || pg_catalog.pg_get_userbyid(relowner) || ', not ' || $2::text || '_owner'
FROM rel CROSS JOIN role WHERE rel.relowner IS DISTINCT FROM role.owner
UNION ALL
SELECT 'owner', 'function', object, 'owned by ' || pg_catalog.pg_get_userbyid(proowner) || ', not ' || $2::text || '_owner'
FROM fn CROSS JOIN role WHERE fn.proowner IS DISTINCT FROM role.owner
UNION ALL
SELECT 'owner', 'type', object, 'owned by ' || pg_catalog.pg_get_userbyid(typowner) || ', not ' || $2::text || '_owner'
FROM typ CROSS JOIN role WHERE typ.typowner IS DISTINCT FROM role.owner
UNION ALL
SELECT 'pinned search_path', 'function', object, 'search_path is not pinned (SET search_path = …)'
FROM fn
WHERE prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM unnest(proconfig) AS c WHERE c LIKE 'search_path=%')
UNION ALL
-- Only the tenant's own roles may hold a privilege here. (An absent ACL
-- means the built-in default: EXECUTE to PUBLIC for functions.)
SELECT CASE WHEN grantee = 0 THEN 'no PUBLIC grants' ELSE 'grants' END, kind, object,
       CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(grantee) || ', a role outside the tenant,' END
       || ' has ' || string_agg(DISTINCT privilege_type, ', ')
FROM (
    SELECT 'schema' AS kind, n.nspname::text AS object, acl.grantee, acl.privilege_type
    FROM n CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) AS acl
    UNION ALL
    SELECT 'relation', rel.object, acl.grantee, acl.privilege_type
    FROM rel CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(rel.relacl, pg_catalog.acldefault('r', rel.relowner))) AS acl
    UNION ALL
    SELECT 'function', fn.object, acl.grantee, acl.privilege_type
    FROM fn CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(fn.proacl, pg_catalog.acldefault('f', fn.proowner))) AS acl
) every_grant CROSS JOIN role
WHERE grantee IS DISTINCT FROM role.owner AND grantee IS DISTINCT FROM role.app AND grantee IS DISTINCT FROM role.ro
  -- SELECT to provision_auditor (NOLOGIN, no members; verify checks) only
  -- marks the table's reads for pgaudit: src/store/read_audit.rs.
  AND NOT (kind = 'relation' AND privilege_type = 'SELECT'
           AND grantee IS NOT DISTINCT FROM (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'provision_auditor'))
GROUP BY kind, object, grantee
ORDER BY 1, 3
