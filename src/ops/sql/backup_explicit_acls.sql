-- Objects of the dumped schemas ($1: schema names) whose privileges were set
-- explicitly to exactly the built-in default (e.g. REVOKE ALL FROM the
-- tenant's roles on refinery_schema_history leaves only the owner's).
-- pg_dump emits nothing for them, so they would come back with no ACL at
-- all: the same rights, but not the same catalog. Granting the owner what it
-- already has writes the ACL out again.
WITH objects AS (
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind, c.oid::regclass::text AS name,
           c.relowner AS owner
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY ($1::text[]) AND c.relacl IS NOT NULL
      AND c.relacl = pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner)
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure::text, p.proowner
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ANY ($1::text[]) AND p.proacl IS NOT NULL
      AND p.proacl = pg_catalog.acldefault('f', p.proowner)
    UNION ALL
    SELECT 'TYPE', t.oid::regtype::text, t.typowner
    FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = ANY ($1::text[]) AND t.typacl IS NOT NULL
      AND t.typacl = pg_catalog.acldefault('T', t.typowner)
    UNION ALL
    SELECT 'SCHEMA', quote_ident(n.nspname), n.nspowner
    FROM pg_catalog.pg_namespace n
    WHERE n.nspname = ANY ($1::text[]) AND n.nspacl IS NOT NULL
      AND n.nspacl = pg_catalog.acldefault('n', n.nspowner)
)
SELECT format('GRANT ALL ON %s %s TO %I;', o.kind, o.name, pg_catalog.pg_get_userbyid(o.owner))
FROM objects o
ORDER BY o.kind, o.name
