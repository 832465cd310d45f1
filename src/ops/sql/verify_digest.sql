-- The facts of src/sql/verify_fingerprint.sql, with the same (schema, kind,
-- name) keys, but without deparsing: each row's detail holds raw catalog
-- fields (object ids written #<oid>) and its trees the stored expressions
-- (pg_node_tree). src/verify/canonical.rs makes both tenant-independent, so
-- the tenants of one blueprint compare equal; only objects that differ are
-- then deparsed, by the fingerprint query, for the report. Deparsing all of
-- them costs tens of microseconds per object; this costs a catalog scan.
-- Columns, the most numerous, come from verify_digest_columns.sql as typed
-- fields: formatting 40,000 rows as text here cost more than the scan.
-- $1 schemas; $2 a LIKE pattern of tables (and their objects) to leave out, or
-- NULL (the shared check leaves out the tenants' audit logs: '%\_audit\_log').
-- A NULL ACL is written as the default it stands for, as in the fingerprint.
WITH s AS (
    SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY ($1::text[])
), rel AS (
    SELECT c.*, s.nspname FROM pg_catalog.pg_class c JOIN s ON s.oid = c.relnamespace
    WHERE NOT c.relispartition AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND ($2::text IS NULL OR c.relname NOT LIKE $2::text)
)
SELECT s.nspname::text, 'schema'::text, s.nspname::text, 'owner #' || n.nspowner || ' acl ' || coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))::text,
       NULL::text[]
FROM s JOIN pg_catalog.pg_namespace n ON n.oid = s.oid
UNION ALL
SELECT nspname, CASE relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                             WHEN 'S' THEN 'sequence' ELSE 'foreign table' END, relname,
       concat_ws(' ', 'kind ' || relkind::text, 'owner #' || relowner,
                 'partition by ' || pt.partstrat::text || ' ' || pt.partattrs::text || ' #' || replace(pt.partclass::text, ' ', ' #')
                     || ' ' || pt.partcollation::text,
                 'rls ' || relrowsecurity || '/' || relforcerowsecurity, 'options ' || reloptions::text,
                 -- In grant order: a restored schema may differ here, and then the
                 -- fingerprint (which sorts) decides.
                 'acl ' || coalesce(relacl, pg_catalog.acldefault(CASE WHEN relkind = 'S' THEN 's' ELSE 'r' END::"char", relowner))::text),
       ARRAY[pt.partexprs::text, rw.ev_action::text]
FROM rel
LEFT JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = rel.oid
LEFT JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = rel.oid AND rw.rulename = '_RETURN'
UNION ALL
SELECT r.nspname, 'constraint', r.relname || '.' || co.conname,
       concat_ws(' ', co.contype::text, co.condeferrable, co.condeferred, co.convalidated, co.connoinherit,
                 co.conkey::text, co.confkey::text, '#' || co.confrelid, co.confupdtype::text, co.confdeltype::text,
                 co.confmatchtype::text, co.confdelsetcols::text, co.conexclop::text, '#' || co.contypid),
       ARRAY[co.conbin::text]
FROM rel r JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
UNION ALL
SELECT r.nspname, 'index', i.relname,
       concat_ws(' ', 'on ' || r.relname, '#' || i.relam, x.indisunique, x.indisprimary, x.indisexclusion, x.indimmediate,
                 x.indnullsnotdistinct, x.indnkeyatts, x.indkey::text, '#' || replace(x.indclass::text, ' ', ' #'),
                 x.indcollation::text, x.indoption::text, 'options ' || i.reloptions::text,
                 CASE WHEN x.indisvalid THEN '' ELSE 'INVALID' END),
       ARRAY[x.indexprs::text, x.indpred::text]
FROM rel r JOIN pg_catalog.pg_index x ON x.indrelid = r.oid JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
UNION ALL
SELECT s.nspname, 'enum', t.typname,
       (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid),
       NULL
FROM s JOIN pg_catalog.pg_type t ON t.typnamespace = s.oid AND t.typtype = 'e'
UNION ALL
SELECT s.nspname, 'type', t.typname, t.typtype::text || ' owner #' || t.typowner, NULL
FROM s JOIN pg_catalog.pg_type t ON t.typnamespace = s.oid AND t.typtype IN ('d', 'r', 'm')
UNION ALL
SELECT s.nspname, 'function', p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
       concat_ws(' ', 'returns #' || p.prorettype, p.proretset, 'owner #' || p.proowner, '#' || p.prolang,
                 p.prokind::text, p.provolatile::text, p.proparallel::text, p.proisstrict, p.proleakproof,
                 'security ' || CASE WHEN p.prosecdef THEN 'definer' ELSE 'invoker' END,
                 'config ' || coalesce(array_to_string(p.proconfig, ','), ''),
                 'body ' || p.prosrc,
                 'acl ' || coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))::text),
       ARRAY[p.proargdefaults::text]
FROM s JOIN pg_catalog.pg_proc p ON p.pronamespace = s.oid
UNION ALL
SELECT r.nspname, 'trigger', r.relname || '.' || g.tgname,
       concat_ws(' ', g.tgtype, '#' || g.tgfoid, '#' || g.tgconstrrelid, g.tgenabled::text, g.tgattr::text, encode(g.tgargs, 'escape'),
                 g.tgdeferrable, g.tginitdeferred, g.tgoldtable, g.tgnewtable),
       ARRAY[g.tgqual::text]
FROM rel r JOIN pg_catalog.pg_trigger g ON g.tgrelid = r.oid AND NOT g.tgisinternal
UNION ALL
SELECT r.nspname, 'policy', r.relname || '.' || pol.polname,
       concat_ws(' ', CASE WHEN pol.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, 'FOR ' || pol.polcmd::text,
                 -- In the order CREATE POLICY stored them, as the fingerprint has them.
                 'TO #' || array_to_string(pol.polroles, ',#')),
       ARRAY[pol.polqual::text, pol.polwithcheck::text]
FROM rel r JOIN pg_catalog.pg_policy pol ON pol.polrelid = r.oid
UNION ALL
SELECT s.nspname, 'default privileges', pg_catalog.pg_get_userbyid(d.defaclrole) || ' on ' || d.defaclobjtype::text,
       d.defaclacl::text, NULL
FROM s JOIN pg_catalog.pg_default_acl d ON d.defaclnamespace = s.oid
