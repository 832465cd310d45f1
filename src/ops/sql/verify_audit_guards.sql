-- The audit log's guards, on every table that holds a tenant's audit rows:
-- the log itself, each of its partitions (DEFAULT included), partitions
-- detached but still in `audit`, and archived ones in `audit_archive`. Each
-- must carry both guards, calling audit.forbid_change(), with the right
-- events, and enabled: 'O' or 'A'. ('D' is disabled, and 'R' fires only
-- under session_replication_role = replica, so an ordinary session skips it.)
-- Tables are matched by name (<code>_audit_log, <code>_audit_log_<suffix>)
-- rather than through pg_partition_tree, which would lock every partition.
-- Each row: (scope, check, kind, object, problem). $1 codes of the audited
-- tenants being checked.
WITH guards(name, tgtype, events) AS (
    -- tgtype bits: 1 row, 2 before, 8 delete, 16 update, 32 truncate.
    VALUES ('audit_append_only', 27::int2, 'BEFORE UPDATE OR DELETE FOR EACH ROW'),
           ('audit_no_truncate', 34::int2, 'BEFORE TRUNCATE FOR EACH STATEMENT')
), audit_tables AS MATERIALIZED (
    -- One pass over pg_class comparing oids only; the name patterns below
    -- then run on the audit schemas' tables alone.
    SELECT c.oid, n.nspname, c.relname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relnamespace = ANY (ARRAY(SELECT oid FROM pg_catalog.pg_namespace
                                      WHERE nspname IN ('audit', 'audit_archive')))
      AND c.relkind IN ('r', 'p')
), named AS MATERIALIZED (
    SELECT a.*, regexp_replace(a.relname, '_audit_log(_p[0-9_]+|_default)?$', '') AS code
    FROM audit_tables a WHERE a.relname ~ '_audit_log(_p[0-9_]+|_default)?$'
), logs AS (
    -- = ANY of a bound array is a hash lookup (PostgreSQL 14+), not a scan.
    SELECT * FROM named WHERE code = ANY ($1::text[])
)
SELECT l.code, 'audit', 'table', l.nspname || '.' || l.relname,
       'the guard trigger ' || g.name || CASE
           WHEN t.oid IS NULL THEN ' is missing'
           WHEN t.tgenabled NOT IN ('O', 'A') THEN ' is disabled'
           ELSE ' is not ' || g.events || ' EXECUTE FUNCTION audit.forbid_change()'
       END || ' (audit rows could be changed or deleted)'
FROM logs l
CROSS JOIN guards g
LEFT JOIN pg_catalog.pg_trigger t ON t.tgrelid = l.oid AND t.tgname = g.name
WHERE t.oid IS NULL
   OR t.tgenabled NOT IN ('O', 'A')
   OR t.tgtype <> g.tgtype
   OR t.tgfoid IS DISTINCT FROM pg_catalog.to_regprocedure('audit.forbid_change()')
