-- The USAGE a tenant's app and read-only roles hold directly on its schemas
-- ($1: schema names, $2: role names). Schema USAGE is the one gate in front
-- of every table, sequence, view and function there, so it is what `tenant
-- remove --keep-data` revokes from them and `tenant activate` gives back.
SELECT n.nspname::text AS schema, r.rolname::text AS role
FROM pg_catalog.pg_namespace n
CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
WHERE n.nspname = ANY ($1::text[]) AND r.rolname = ANY ($2::text[]) AND a.privilege_type = 'USAGE'
ORDER BY 1, 2
