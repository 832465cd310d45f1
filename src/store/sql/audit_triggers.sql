-- The audit trigger every audited table of a tenant schema lacks, with the
-- table's real primary-key columns as trigger arguments (the seed's NEW.id
-- does not exist on these tables). A partitioned parent's row trigger is
-- cloned onto its partitions, present and future, by PostgreSQL itself.
-- Each row names the table owner, who must create the trigger.
-- $1 tenant schema; $2 audit log table (in schema audit); $3 excluded tables.
SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       format('CREATE TRIGGER audit_row_change AFTER INSERT OR UPDATE OR DELETE ON %I.%I '
              'FOR EACH ROW EXECUTE FUNCTION audit.log_row_change(%s)',
              n.nspname, c.relname, array_to_string(quote_literal($2::text) || pk.cols, ', ')) AS ddl
-- The schema's relations through pg_depend (indexed), not by filtering
-- pg_class on its namespace (a scan of every tenant's relations).
FROM pg_catalog.pg_namespace n
JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.refobjid = n.oid
     AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'n'
JOIN pg_catalog.pg_class c ON c.oid = d.objid
CROSS JOIN LATERAL (
    SELECT array_agg(quote_literal(a.attname) ORDER BY k.ord) AS cols
    FROM pg_catalog.pg_index i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE i.indrelid = c.oid AND i.indisprimary
) pk
WHERE n.nspname = $1::text
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND c.relname <> 'refinery_schema_history'
  AND c.relname <> ALL ($3::text[])
  AND pk.cols IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'audit_row_change')
