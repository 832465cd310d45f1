-- Which tenants are not complete, and what each lacks, in one query for all
-- of them (run by every `up`, `tenant add` and `tenant upgrade`). Complete
-- means what the finishing steps make, each derived from the catalog:
-- an audit trigger on every audited table, a DEFAULT partition on every
-- declared partitioned table, RLS, FORCE and the root's policies on every
-- partition, the audit log with its TRUNCATE guard on every partition, the
-- tenant roles in their groups, and no administrator still pending.
-- $1: jsonb array of {code, schema, audited, exclude[], log, partitioned:
-- [{schema, table}]}. Returns one row per incomplete tenant.
WITH tenant AS (
    SELECT t.*, n.oid AS nsp
    FROM jsonb_to_recordset($1::jsonb)
         AS t(code text, schema text, audited boolean, exclude text[], log text, partitioned jsonb)
    JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema
), declared AS (
    SELECT t.code, p.schema AS sch, p."table" AS tbl, (p.schema = 'audit' AND p."table" = t.log) AS is_log,
           pg_catalog.to_regclass(format('%I.%I', p.schema, p."table")) AS parent
    FROM tenant t CROSS JOIN LATERAL jsonb_to_recordset(t.partitioned) AS p(schema text, "table" text)
), parts AS (
    SELECT d.code, d.is_log, d.parent, c.oid, n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
           r.relrowsecurity AS root_rls, r.relforcerowsecurity AS root_force
    FROM declared d
    JOIN pg_catalog.pg_class r ON r.oid = d.parent AND r.relkind = 'p'
    CROSS JOIN LATERAL pg_catalog.pg_partition_tree(d.parent) AS tree
    JOIN pg_catalog.pg_class c ON c.oid = tree.relid AND c.oid <> d.parent AND c.relkind IN ('r', 'p')
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
), gaps AS (
    -- The schema's relations through pg_depend (indexed), as audit_triggers.sql.
    SELECT t.code, format('audit trigger on %I.%I', t.schema, c.relname) AS gap
    FROM tenant t
    JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.refobjid = t.nsp
         AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'n'
    JOIN pg_catalog.pg_class c ON c.oid = d.objid
    WHERE t.audited AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND c.relname <> 'refinery_schema_history' AND c.relname <> ALL (t.exclude)
      AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'audit_row_change')
    UNION ALL
    SELECT t.code, format('audit log audit.%I', t.log)
    FROM tenant t WHERE t.audited AND pg_catalog.to_regclass(format('audit.%I', t.log)) IS NULL
    UNION ALL
    SELECT d.code, format('DEFAULT partition of %I.%I', d.sch, d.tbl)
    FROM declared d JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = d.parent
    WHERE pt.partdefid = 0
    UNION ALL
    SELECT p.code, format('row-level security on %I.%I', p.nspname, p.relname)
    FROM parts p
    WHERE p.root_rls
      AND (NOT p.relrowsecurity OR (p.root_force AND NOT p.relforcerowsecurity)
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_policy rp WHERE rp.polrelid = p.parent
                      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy q
                                      WHERE q.polrelid = p.oid AND q.polname = rp.polname)))
    UNION ALL
    SELECT p.code, format('TRUNCATE guard on %I.%I', p.nspname, p.relname)
    FROM parts p
    WHERE p.is_log
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = p.oid AND g.tgname = 'audit_no_truncate')
    UNION ALL
    SELECT t.code, format('role %s in %s', r.member, r.grp)
    FROM tenant t
    CROSS JOIN LATERAL (VALUES (t.code || '_owner', 'provision_tenant_owners'), (t.code || '_app', 'provision_tenant_apps'),
                               (t.code || '_ro', 'provision_tenant_readers')) AS r(member, grp)
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                      JOIN pg_catalog.pg_roles a ON a.oid = m.member
                      JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                      WHERE a.rolname = r.member AND g.rolname = r.grp)
    UNION ALL
    SELECT t.code, 'administrator (creation interrupted)'
    FROM tenant t
    JOIN shared.tenants s ON s.tenant_code = t.code
    JOIN shared.tenant_config c ON c.tenant_id = s.tenant_id AND c.config_key = 'provision.administrator_pending'
)
SELECT code, array_agg(gap ORDER BY gap) AS gaps,
       bool_or(gap = 'administrator (creation interrupted)') AS creating
FROM gaps
GROUP BY code
ORDER BY code
