-- Every relation a move carries, as qualified names: the tenant schema's tables, partitions and sequences, and the
-- tenant's audit log with its partitions and the sequences its columns own. Partitions name their parent, bound and
-- the parent's owner (who must create them, so ownership and default privileges follow as with rollover).
-- $1 the tenant schema; $2 the audit log's name in schema audit.
WITH log AS (
    SELECT to_regclass(format('audit.%I', $2::text)) AS oid
), rels AS (
    SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S')
    UNION
    SELECT log.oid FROM log WHERE log.oid IS NOT NULL
    UNION
    SELECT i.inhrelid FROM pg_catalog.pg_inherits i, log WHERE i.inhparent = log.oid
    UNION
    SELECT d.objid FROM pg_catalog.pg_depend d, log
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
      AND d.refobjid = log.oid AND d.deptype IN ('a', 'i')
)
SELECT format('%I.%I', n.nspname, c.relname) AS name,
       c.relkind::text AS kind,
       c.relispartition AS is_partition,
       CASE WHEN p.oid IS NULL THEN '' ELSE format('%I.%I', pn.nspname, p.relname) END AS parent,
       coalesce(pg_catalog.pg_get_expr(c.relpartbound, c.oid), '') AS bound,
       pg_catalog.pg_get_userbyid(coalesce(p.relowner, c.relowner))::text AS owner
FROM rels r
JOIN pg_catalog.pg_class c ON c.oid = r.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid AND c.relispartition
LEFT JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
WHERE c.relkind IN ('r', 'p', 'S')
ORDER BY c.relispartition, 1
