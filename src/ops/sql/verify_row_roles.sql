-- Row tenancy (issue 14): a row tenant's roles, for every row tenant at once. The tenant table's policy lets a role
-- act for tenant `code` when it is a member of <code>_app or <code>_ro (shared.tenant_role_member), so those roles,
-- and <code>_owner, must exist and must not be superuser, BYPASSRLS or able to log in, as a schema tenant's
-- (verify_invariants.sql; their memberships are verify_memberships.sql's, for all tenants). Each row:
-- (scope, check, kind, object, problem). $1 the row tenants' codes.
WITH roles AS (
    SELECT code, code || suffix AS role FROM unnest($1::text[]) AS code, unnest(ARRAY['_owner', '_app', '_ro']) AS suffix
)
SELECT r.code, 'roles', 'role', r.role,
       concat_ws(', ', CASE WHEN a.rolsuper THEN 'is superuser' END, CASE WHEN a.rolbypassrls THEN 'bypasses RLS' END,
                 CASE WHEN a.rolcanlogin THEN 'can log in' END)
FROM roles r JOIN pg_catalog.pg_roles a ON a.rolname = r.role
WHERE a.rolsuper OR a.rolbypassrls OR a.rolcanlogin
UNION ALL
SELECT r.code, 'roles', 'role', r.role, 'does not exist'
FROM roles r WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname = r.role)
ORDER BY 1, 4
