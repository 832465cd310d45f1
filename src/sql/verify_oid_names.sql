-- The name of every user object (id >= 16384) a stored node tree or a
-- catalog column can point at, by object id, so that verify can compare two
-- tenants' copies without deparsing them (src/verify/canonical.rs). The
-- names are qualified by schema; the caller replaces tenant names.
-- $1 the schemas whose objects to name, or NULL for all; roles are all named.
SELECT c.oid, 'relation ' || n.nspname || '.' || c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT t.oid, 'type ' || n.nspname || '.' || t.typname
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT e.oid, 'enum ' || n.nspname || '.' || t.typname || '.' || e.enumlabel
FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE e.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
-- Argument types by id: enough to tell overloads apart within one database,
-- and the same for every tenant when they are built-in types.
SELECT p.oid, 'function ' || n.nspname || '.' || p.proname || '(' || p.proargtypes::text || ')'
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT o.oid, 'operator ' || n.nspname || '.' || o.oprname || '(' || o.oprleft || ',' || o.oprright || ')'
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT o.oid, 'operator class ' || n.nspname || '.' || o.opcname
FROM pg_catalog.pg_opclass o JOIN pg_catalog.pg_namespace n ON n.oid = o.opcnamespace
WHERE o.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT c.oid, 'collation ' || n.nspname || '.' || c.collname
FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
WHERE c.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT a.oid, 'role ' || a.rolname FROM pg_catalog.pg_roles a WHERE a.oid >= 16384
UNION ALL
SELECT m.oid, 'access method ' || m.amname FROM pg_catalog.pg_am m WHERE m.oid >= 16384
