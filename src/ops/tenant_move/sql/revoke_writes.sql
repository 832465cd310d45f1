-- At the switch, the source copy stops taking writes: an application still routed there fails loudly instead of
-- writing rows the target never sees. $1 schema, $2 the tenant's app role.
SELECT format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA %I FROM %I', $1::text, $2::text)
WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $2)
