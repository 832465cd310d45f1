-- A text fingerprint of every object in the given schemas, one row per fact:
-- (schema, kind, name, detail). Partitions are left out (their set depends
-- on the date and on rollover; the invariants check them) but a partitioned
-- parent's key is in. Bodies are returned whole because they embed the
-- schema name, which the caller replaces before comparing. Comparing the fingerprint of a tenant schema with that
-- of a reference schema built from the templates shows drift by name.
-- A NULL ACL is written as the default it stands for (acldefault): an ACL
-- granted and revoked back to the owner's default is stored explicitly, but
-- pg_dump skips it, so a restored copy holds NULL with the same meaning.
-- $1 schemas; $2 a LIKE pattern of tables (and their objects) to leave out, or
-- NULL (the shared check leaves out the tenants' audit logs: '%\_audit\_log').
WITH s AS (
    SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY ($1::text[])
), rel AS (
    SELECT c.*, s.nspname FROM pg_catalog.pg_class c JOIN s ON s.oid = c.relnamespace
    WHERE NOT c.relispartition AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND ($2::text IS NULL OR c.relname NOT LIKE $2::text)
)
-- (text, not name: a UNION takes its column types from the first branch, and
-- name would truncate qualified names to 63 bytes.)
SELECT s.nspname::text, 'schema'::text, s.nspname::text, 'owner ' || pg_catalog.pg_get_userbyid(n.nspowner)
       || ' acl ' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a), '')
FROM s JOIN pg_catalog.pg_namespace n ON n.oid = s.oid
UNION ALL
SELECT nspname, CASE relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                             WHEN 'S' THEN 'sequence' ELSE 'foreign table' END, relname,
       concat_ws(' ', 'kind ' || relkind::text, 'owner ' || pg_catalog.pg_get_userbyid(relowner),
                 CASE WHEN relkind = 'p' THEN 'partition by ' || pg_catalog.pg_get_partkeydef(oid) END,
                 CASE WHEN relkind IN ('v', 'm') THEN 'definition ' || pg_catalog.pg_get_viewdef(oid) END,
                 'rls ' || relrowsecurity || '/' || relforcerowsecurity,
                 'acl ' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(relacl, pg_catalog.acldefault(CASE WHEN relkind = 'S' THEN 's' ELSE 'r' END::"char", relowner))) a), ''))
FROM rel
UNION ALL
SELECT r.nspname, 'column', r.relname || '.' || a.attname,
       concat_ws(' ', pg_catalog.format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'NOT NULL' END,
                 CASE WHEN a.attgenerated = 's' THEN 'GENERATED ' ELSE 'DEFAULT ' END || pg_catalog.pg_get_expr(d.adbin, d.adrelid),
                 CASE WHEN a.attidentity <> '' THEN 'IDENTITY ' || a.attidentity::text END,
                 'position ' || a.attnum)
FROM rel r
JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
UNION ALL
SELECT r.nspname, 'constraint', r.relname || '.' || co.conname,
       pg_catalog.pg_get_constraintdef(co.oid) || CASE WHEN co.convalidated THEN '' ELSE ' NOT VALID' END
FROM rel r JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
UNION ALL
SELECT r.nspname, 'index', i.relname,
       pg_catalog.pg_get_indexdef(x.indexrelid) || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END
FROM rel r JOIN pg_catalog.pg_index x ON x.indrelid = r.oid JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
UNION ALL
SELECT s.nspname, 'enum', t.typname,
       (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)
FROM s JOIN pg_catalog.pg_type t ON t.typnamespace = s.oid AND t.typtype = 'e'
UNION ALL
SELECT s.nspname, 'type', t.typname, t.typtype::text || ' owner ' || pg_catalog.pg_get_userbyid(t.typowner)
FROM s JOIN pg_catalog.pg_type t ON t.typnamespace = s.oid AND t.typtype IN ('d', 'r', 'm')
UNION ALL
SELECT s.nspname, 'function', p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
       concat_ws(' ', 'returns ' || pg_catalog.pg_get_function_result(p.oid), 'owner ' || pg_catalog.pg_get_userbyid(p.proowner),
                 'security ' || CASE WHEN p.prosecdef THEN 'definer' ELSE 'invoker' END,
                 'config ' || coalesce(array_to_string(p.proconfig, ','), ''),
                 'body ' || p.prosrc,
                 'acl ' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a), ''))
FROM s JOIN pg_catalog.pg_proc p ON p.pronamespace = s.oid
UNION ALL
SELECT r.nspname, 'trigger', r.relname || '.' || g.tgname, pg_catalog.pg_get_triggerdef(g.oid) || ' enabled ' || g.tgenabled::text
FROM rel r JOIN pg_catalog.pg_trigger g ON g.tgrelid = r.oid AND NOT g.tgisinternal
UNION ALL
SELECT r.nspname, 'policy', r.relname || '.' || pol.polname,
       concat_ws(' ', CASE WHEN pol.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, 'FOR ' || pol.polcmd::text,
                 'TO ' || (SELECT string_agg(CASE WHEN x = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(x) END, ',' ORDER BY 1)
                           FROM unnest(pol.polroles) x),
                 'USING ' || pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
                 'CHECK ' || pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid))
FROM rel r JOIN pg_catalog.pg_policy pol ON pol.polrelid = r.oid
UNION ALL
SELECT s.nspname, 'default privileges', pg_catalog.pg_get_userbyid(d.defaclrole) || ' on ' || d.defaclobjtype::text,
       (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(d.defaclacl) a)
FROM s JOIN pg_catalog.pg_default_acl d ON d.defaclnamespace = s.oid
