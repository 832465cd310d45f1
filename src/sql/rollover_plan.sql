-- Everything `partitions rollover` must do, for the whole database, in one
-- query: one input row per tenant x partitioned table, one output row per
-- statement to run. A database that needs nothing returns no rows.
--
-- Per table: partitions must cover every period from the start of the window
-- through the current period of $10 plus `premake` periods. The window
-- starts at the oldest existing partition (so gaps left by missed runs are
-- filled) but never before the retention cutoff (so a catch-up never creates
-- what retention would drop at once). Partitions wholly older than the
-- cutoff (now - retention) are detached, then dropped or archived; the
-- partition holding now never qualifies because retention is positive.
-- A new partition is created standalone, receives the rows of the DEFAULT
-- partition that fall in its range, then is attached (SHARE UPDATE EXCLUSIVE
-- on the parent, not ACCESS EXCLUSIVE) and given the parent's RLS.
--
-- Inputs (parallel arrays): $1 tenant codes, $2 schemas, $3 tables,
-- $4 partition columns, $5 units (day | week | month), $6 premake,
-- $7 retention ('' = not configured), $8 retention-policy keys in
-- shared.data_retention_policies, $9 archive flags; $10 now (NULL: clock).
-- Output: code, phase, step, owner ('' = the connecting role), kind, target, ddl.
WITH clock AS (
    SELECT coalesce($10::text::timestamp, localtimestamp) AS ts
), spec AS (
    SELECT s.*, to_regclass(format('%I.%I', s.sch, s.tbl)) AS parent
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::bool[])
         WITH ORDINALITY AS s(code, sch, tbl, col, unit, premake, retention, policy_key, archive, ord)
), resolved AS (
    SELECT spec.*, c.relowner, c.relrowsecurity, c.relforcerowsecurity, pt.partdefid,
           ('1 ' || spec.unit)::interval AS step,
           date_trunc(spec.unit, clock.ts) AS current_lo,
           clock.ts - coalesce(nullif(spec.retention, '')::interval,
                               (SELECT make_interval(days => d.retention_days)
                                FROM shared.data_retention_policies d WHERE d.table_name = spec.policy_key)) AS cutoff
    FROM spec
    CROSS JOIN clock
    JOIN pg_catalog.pg_class c ON c.oid = spec.parent
    JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = spec.parent
), bounds AS (
    SELECT r.ord, pn.nspname, pc.relname, b[1]::timestamp AS lo, b[2]::timestamp AS hi
    FROM resolved r
    JOIN pg_catalog.pg_inherits i ON i.inhparent = r.parent
    JOIN pg_catalog.pg_class pc ON pc.oid = i.inhrelid
    JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
    -- Relation 0: deparsing a bound needs no column names, and passing the
    -- partition would lock it, so one locked table could stall the whole plan.
    CROSS JOIN LATERAL regexp_match(pg_catalog.pg_get_expr(pc.relpartbound, 0),
                                    'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)') AS b
    WHERE i.inhrelid <> r.partdefid
), windowed AS (
    SELECT r.*,
           greatest(least(coalesce((SELECT min(b.lo) FROM bounds b WHERE b.ord = r.ord), r.current_lo), r.current_lo),
                    coalesce(date_trunc(r.unit, r.cutoff), '-infinity'::timestamp)) AS start_lo
    FROM resolved r
), missing AS (
    SELECT w.*, g.lo, g.lo + w.step AS hi,
           w.tbl || '_p' || to_char(g.lo, CASE w.unit WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY_MM_DD' END) AS name
    FROM windowed w
    CROSS JOIN LATERAL generate_series(w.start_lo, w.current_lo + w.premake * w.step, w.step) AS g(lo)
    WHERE NOT EXISTS (SELECT 1 FROM bounds b WHERE b.ord = w.ord AND b.lo < g.lo + w.step AND b.hi > g.lo)
      AND to_regclass(format('%I.%I', w.sch,
                             w.tbl || '_p' || to_char(g.lo, CASE w.unit WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY_MM_DD' END))) IS NULL
), expired AS (
    SELECT r.*, b.nspname AS part_schema, b.relname AS part_name,
           CASE WHEN r.sch = 'audit' THEN 'audit_archive' ELSE r.code || '_archive' END AS archive_schema
    FROM resolved r JOIN bounds b ON b.ord = r.ord
    WHERE r.cutoff IS NOT NULL AND b.hi <= r.cutoff
)
-- A DEFAULT partition where a table has none.
SELECT r.code, 1 AS phase, r.ord AS seq, NULL::timestamp AS lo, 1 AS step,
       pg_catalog.pg_get_userbyid(r.relowner) AS owner, 'create' AS kind,
       format('%I.%I', r.sch, r.tbl || '_default') AS target,
       format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', r.sch, r.tbl || '_default', r.parent) AS ddl
FROM resolved r WHERE r.partdefid = 0
UNION ALL
-- New partitions: create standalone, move the DEFAULT's rows in, attach.
SELECT m.code, 2, m.ord, m.lo, s.n, s.owner, s.kind, format('%I.%I', m.sch, m.name), s.ddl
FROM missing m
CROSS JOIN LATERAL (VALUES
    (1, pg_catalog.pg_get_userbyid(m.relowner), 'create',
     format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION)',
            m.sch, m.name, m.parent)),
    (2, '', 'move',
     CASE WHEN m.partdefid <> 0 THEN
         format('WITH moved AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I.%I SELECT * FROM moved',
                m.partdefid::regclass, m.col, m.lo, m.col, m.hi, m.sch, m.name) END),
    (3, pg_catalog.pg_get_userbyid(m.relowner), 'attach',
     format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)', m.parent, m.sch, m.name, m.lo, m.hi)),
    (4, pg_catalog.pg_get_userbyid(m.relowner), 'secure',
     CASE WHEN m.relrowsecurity THEN format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', m.sch, m.name) END),
    (5, pg_catalog.pg_get_userbyid(m.relowner), 'secure',
     CASE WHEN m.relforcerowsecurity THEN format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', m.sch, m.name) END),
    -- Audit logs: PostgreSQL clones row triggers onto a new partition but not
    -- the statement-level TRUNCATE guard (the same trigger audit.ensure_audit_log makes).
    (6, pg_catalog.pg_get_userbyid(m.relowner), 'guard',
     CASE WHEN m.sch = 'audit' THEN
         format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION audit.forbid_change()',
                m.sch, m.name) END)
) AS s(n, owner, kind, ddl)
WHERE s.ddl IS NOT NULL
UNION ALL
-- Retention: detach, then drop or archive.
SELECT e.code, 4, e.ord, NULL::timestamp, s.n, s.owner, s.kind, format('%I.%I', e.part_schema, e.part_name), s.ddl
FROM expired e
CROSS JOIN LATERAL (VALUES
    (1, pg_catalog.pg_get_userbyid(e.relowner), 'detach',
     format('ALTER TABLE %s DETACH PARTITION %I.%I', e.parent, e.part_schema, e.part_name)),
    -- Archived audit partitions go to audit_archive, owned like the log by
    -- provision_audit: in <code>_archive the tenant's owner could drop them.
    (2, '', 'prepare',
     CASE WHEN e.archive THEN
         format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', e.archive_schema, pg_catalog.pg_get_userbyid(e.relowner)) END),
    (3, pg_catalog.pg_get_userbyid(e.relowner), CASE WHEN e.archive THEN 'archive' ELSE 'drop' END,
     CASE WHEN e.archive
          THEN format('ALTER TABLE %I.%I SET SCHEMA %I', e.part_schema, e.part_name, e.archive_schema)
          ELSE format('DROP TABLE %I.%I', e.part_schema, e.part_name) END)
) AS s(n, owner, kind, ddl)
WHERE s.ddl IS NOT NULL
ORDER BY 1, 2, 3, 4, 5
