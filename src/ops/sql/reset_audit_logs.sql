-- The tenants' audit logs (audit.<code>_audit_log, partitioned) that hold
-- rows: `reset` carries them across the dropped database, because no reset
-- may drop audit rows that retention has not released.
SELECT c.relname::text AS log, left(c.relname, -length('_audit_log'))::text AS code
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'audit' AND c.relkind = 'p' AND c.relname LIKE '%\_audit\_log'
ORDER BY 1
