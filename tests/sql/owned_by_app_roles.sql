-- Objects owned by a tenant's app or read-only role (there must be none).
SELECT 'class ' || c.oid::regclass::text FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname ~ '_(app|ro)$'
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname ~ '_(app|ro)$'
UNION ALL
SELECT 'type ' || t.oid::regtype::text FROM pg_type t JOIN pg_roles r ON r.oid = t.typowner WHERE r.rolname ~ '_(app|ro)$'
UNION ALL
SELECT 'schema ' || n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname ~ '_(app|ro)$'
