-- The LOGIN roles granted the tenant's app or read-only role on this server. $1 the two role names.
SELECT DISTINCT m.rolname::text
FROM pg_catalog.pg_auth_members am
JOIN pg_catalog.pg_roles r ON r.oid = am.roleid
JOIN pg_catalog.pg_roles m ON m.oid = am.member
WHERE r.rolname = ANY ($1) AND m.rolcanlogin
ORDER BY 1
