-- Which tenants are not complete, and what each lacks, in one query for all
-- of them (run by every `up`, `tenant add` and `tenant upgrade`). Complete
-- means what the finishing steps make, each derived from the catalog:
-- an audit trigger on every audited table, a DEFAULT partition on every
-- declared partitioned table, RLS, FORCE and the root's policies on every
-- partition, the audit log, the parent's statement-level triggers (the
-- TRUNCATE guards) on every partition, the
-- auditor's SELECT on every read-audited table, the tenant roles in their
-- groups, and no administrator still pending.
-- Inputs are parallel arrays (unnest of a constant array gives the planner
-- exact row counts, so it walks the catalog through its indexes):
-- $1 codes, $2 schemas, $3 audited; $4/$5 (code, table) excluded from audit;
-- $6/$7/$8 (code, schema, table) of the declared partitioned tables, the
-- audit log included; $9/$10 (code, table) whose reads are audited.
-- Returns one row per incomplete tenant.
WITH tenant AS MATERIALIZED (
    SELECT t.code, t.schema, t.audited, t.code || '_audit_log' AS log, n.oid AS nsp,
           coalesce(x.tables, '{}') AS exclude
    FROM unnest($1::text[], $2::text[], $3::bool[]) AS t(code, schema, audited)
    JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema
    LEFT JOIN (SELECT e.code, array_agg(e.tbl) AS tables FROM unnest($4::text[], $5::text[]) AS e(code, tbl)
               GROUP BY e.code) AS x ON x.code = t.code
), declared AS (
    SELECT p.code, p.sch, p.tbl,
           pg_catalog.to_regclass(format('%I.%I', p.sch, p.tbl))::oid AS parent
    FROM unnest($6::text[], $7::text[], $8::text[]) AS p(code, sch, tbl)
    WHERE p.code IN (SELECT code FROM tenant)
), parts AS (
    -- One level, as provision partitions (pg_inherits is indexed by parent).
    -- A partition lives in its parent's schema (provision and rollover make them so).
    SELECT d.code, d.parent, c.oid, d.sch AS nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
           r.relrowsecurity AS root_rls, r.relforcerowsecurity AS root_force
    FROM declared d
    JOIN pg_catalog.pg_class r ON r.oid = d.parent
    JOIN pg_catalog.pg_inherits i ON i.inhparent = d.parent
    JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    WHERE r.relkind = 'p' AND c.relkind IN ('r', 'p')
), gaps AS (
    -- The schema's relations through pg_depend (indexed), as audit_triggers.sql.
    SELECT t.code, format('audit trigger on %I.%I', t.schema, c.relname) AS gap
    FROM tenant t
    JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.refobjid = t.nsp
         AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'n'
    JOIN pg_catalog.pg_class c ON c.oid = d.objid
    WHERE t.audited AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'refinery_schema_history'
      AND c.relname::text <> ALL (t.exclude)
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
    -- Statement-level triggers are not cloned onto partitions: each of the
    -- parent's (the audit log's TRUNCATE guard, a pack's own) on every one.
    SELECT p.code, CASE WHEN (rt.tgtype & 32) <> 0 THEN format('TRUNCATE guard on %I.%I', p.nspname, p.relname)
                        ELSE format('statement trigger %I on %I.%I', rt.tgname, p.nspname, p.relname) END
    FROM parts p
    JOIN pg_catalog.pg_trigger rt ON rt.tgrelid = p.parent
    WHERE NOT rt.tgisinternal AND rt.tgconstraint = 0 AND (rt.tgtype & 1) = 0
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = p.oid AND g.tgname = rt.tgname)
    UNION ALL
    SELECT t.code, format('read-audit grant on %I.%I', t.schema, c.relname)
    FROM tenant t
    JOIN unnest($9::text[], $10::text[]) AS ra(code, tbl) ON ra.code = t.code
    JOIN pg_catalog.pg_class c ON c.relnamespace = t.nsp AND c.relname = ra.tbl
    WHERE c.relkind IN ('r', 'p')
      AND NOT coalesce(pg_catalog.has_table_privilege(pg_catalog.to_regrole('provision_auditor'), c.oid, 'SELECT'), false)
    UNION ALL
    SELECT t.code, format('role %s in %s', r.member, r.grp)
    FROM tenant t
    CROSS JOIN LATERAL (VALUES (t.code || '_owner', 'provision_tenant_owners'), (t.code || '_app', 'provision_tenant_apps'),
                               (t.code || '_ro', 'provision_tenant_readers')) AS r(member, grp)
    WHERE NOT coalesce(pg_catalog.pg_has_role(pg_catalog.to_regrole(pg_catalog.quote_ident(r.member)),
                                                        pg_catalog.to_regrole(r.grp), 'MEMBER'), false)
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
