-- The name of every user object (id >= 16384) a stored node tree or a
-- catalog column can point at, by object id, so that verify can compare two
-- tenants' copies without deparsing them (src/verify/canonical.rs).
-- Each row: (oid, schema, name in the schema, qualified name). The caller
-- replaces tenant names in the qualified name, for its owner's facts only.
-- $1 the schemas whose objects to name, or NULL for all; roles are all named.
-- (Not indexes or partitions: no stored expression names them.)
SELECT c.oid, n.nspname::text, c.relname::text, 'relation ' || n.nspname || '.' || c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid >= 16384 AND c.relkind NOT IN ('i', 'I') AND NOT c.relispartition AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT t.oid, n.nspname::text, t.typname::text, 'type ' || n.nspname || '.' || t.typname
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT e.oid, n.nspname::text, t.typname::text, 'enum ' || n.nspname || '.' || t.typname || '.' || e.enumlabel
FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE e.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
-- Argument types by id: enough to tell overloads apart within one database,
-- and the same for every tenant when they are built-in types.
SELECT p.oid, n.nspname::text, p.proname::text, 'function ' || n.nspname || '.' || p.proname || '(' || p.proargtypes::text || ')'
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT o.oid, n.nspname::text, o.oprname::text, 'operator ' || n.nspname || '.' || o.oprname || '(' || o.oprleft || ',' || o.oprright || ')'
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT o.oid, n.nspname::text, o.opcname::text, 'operator class ' || n.nspname || '.' || o.opcname
FROM pg_catalog.pg_opclass o JOIN pg_catalog.pg_namespace n ON n.oid = o.opcnamespace
WHERE o.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT c.oid, n.nspname::text, c.collname::text, 'collation ' || n.nspname || '.' || c.collname
FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
WHERE c.oid >= 16384 AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT a.oid, NULL, a.rolname::text, 'role ' || a.rolname FROM pg_catalog.pg_roles a WHERE a.oid >= 16384
UNION ALL
SELECT m.oid, NULL, m.amname::text, 'access method ' || m.amname FROM pg_catalog.pg_am m WHERE m.oid >= 16384
