-- What a backup of one tenant ($1: code) needs to know besides pg_dump's
-- output, as (kind, name, detail) rows:
--   server    the server's major version
--   bypass    whether the connected role reads past row-level security
--             (superuser or BYPASSRLS): 't' or 'f'
--   archive   the tenant's archive schema (<code>_archive), if it exists
--   log       the audit log audit.<code>_audit_log, if it exists
--   partition each partition of the audit log, with its bound
SELECT 'server' AS kind, (current_setting('server_version_num')::int / 10000)::text AS name, NULL::text AS detail
UNION ALL
SELECT 'bypass', (r.rolsuper OR r.rolbypassrls)::text, NULL
FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
UNION ALL
SELECT 'archive', n.nspname::text, NULL
FROM pg_catalog.pg_namespace n WHERE n.nspname = $1 || '_archive'
UNION ALL
SELECT 'log', c.relname::text, NULL
FROM pg_catalog.pg_class c
WHERE c.oid = to_regclass(format('audit.%I', $1 || '_audit_log'))
UNION ALL
SELECT 'partition', c.relname::text, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass(format('audit.%I', $1 || '_audit_log'))
