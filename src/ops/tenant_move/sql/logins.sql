-- The LOGIN roles granted the tenant's app or read-only role on this server,
-- with the role each is granted. $1 the app role, $2 the read-only role.
SELECT DISTINCT m.rolname::text AS login, r.rolname::text AS granted
FROM pg_catalog.pg_auth_members am
JOIN pg_catalog.pg_roles r ON r.oid = am.roleid
JOIN pg_catalog.pg_roles m ON m.oid = am.member
WHERE r.rolname IN ($1, $2) AND m.rolcanlogin
ORDER BY 1, 2
