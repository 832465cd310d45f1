-- Everything `partitions rollover` must do, for the whole database, in one
-- query: one input row per tenant x partitioned table, one output row per
-- statement to run. A database that needs nothing returns no rows.
--
-- Per table: partitions must cover every period from the start of the window
-- through the current period of $10 plus `premake` periods. The window
-- starts at the oldest existing partition (so gaps left by missed runs are
-- filled) but never before the retention cutoff (so a catch-up never creates
-- what retention would drop at once). The cutoff is the SERVER's clock minus
-- the retention, whatever $10 says: a --now ahead never releases rows the
-- server's clock keeps. Partitions wholly older than the cutoff are detached,
-- then dropped or archived; the partition holding now never qualifies
-- because retention is positive.
--
-- Each output row names its transaction (tx): the statements of one new
-- partition, or of one expired partition, commit together and nothing else
-- does, so every lock is held for one partition's work only. Each
-- transaction first locks the parent (PostgreSQL's own order, as every
-- query takes it: parent, then partitions), so it can never wait for the
-- parent while holding a partition a reader needs next:
--   new partition:  SHARE UPDATE EXCLUSIVE on the parent (reads and writes go
--                   on), SHARE ROW EXCLUSIVE on the DEFAULT partition (reads go
--                   on; a write of a row into the DEFAULT waits, so no row can
--                   land there between the move and the ATTACH), then CREATE
--                   standalone, move the DEFAULT's rows of the period (unless
--                   the DEFAULT's file was empty at planning), ATTACH
--                   (ACCESS EXCLUSIVE on the new table and the DEFAULT while
--                   PostgreSQL scans the DEFAULT), then the parent's RLS flags
--                   and policies, planned here (partitions inherit neither),
--                   and guards: a crash never leaves it attached unsecured;
--   expired:        ACCESS EXCLUSIVE on the parent, then DETACH and DROP or SET
--                   SCHEMA. DETACH ... CONCURRENTLY would need only SHARE UPDATE
--                   EXCLUSIVE, but PostgreSQL refuses it while the table has a
--                   DEFAULT partition, which every table here has (so inserts
--                   never fail); the transaction only changes the catalog.
--   missing DEFAULT: CREATE ... PARTITION OF ... DEFAULT (ACCESS EXCLUSIVE on
--                   the parent).
--   DEFAULT rows older than the window (tables with a retention): the window
--                   reaches back to the oldest period the DEFAULT holds rows
--                   for ($11/$12, read by the tool with
--                   rollover_default_periods.sql) that retention keeps, so those periods get partitions like new ones, rows
--                   moved in; a period wholly older than the cutoff has its
--                   rows released as its partition would be, deleted or moved
--                   into a table of the archive schema (SHARE UPDATE EXCLUSIVE
--                   on the parent, SHARE ROW EXCLUSIVE on the DEFAULT),
--                   without ever attaching it.
--
-- Inputs (parallel arrays): $1 tenant codes, $2 schemas, $3 tables,
-- $4 partition columns, $5 units (day | week | month), $6 premake,
-- $7 retention ('' = not configured), $8 retention-policy keys in
-- shared.data_retention_policies, $9 archive flags (NULL: the policy's
-- archive_before_delete decides, else drop); $10 now (NULL: clock);
-- $11 ordinalities and $12 period starts (text): the periods the DEFAULT
-- partitions hold rows for (empty arrays: place no DEFAULT row).
-- Output: code, tx, phase, seq, lo, step, owner ('' = the connecting role),
-- kind, target, parent, ddl, security (the parent's, as planned).
WITH clock AS (
    SELECT coalesce($10::text::timestamp, localtimestamp) AS ts, localtimestamp AS server
), spec AS (
    SELECT s.*, to_regclass(format('%I.%I', s.sch, s.tbl)) AS parent
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::bool[])
         WITH ORDINALITY AS s(code, sch, tbl, col, unit, premake, retention, policy_key, archive, ord)
), resolved AS (
    SELECT spec.code, spec.sch, spec.tbl, spec.col, spec.unit, spec.premake, spec.ord, spec.parent,
           c.relowner, c.relrowsecurity, c.relforcerowsecurity, pt.partdefid,
           -- The DEFAULT partition's file is empty, so it holds no row to move
           -- (read from the file, which locks nothing). Rows that land there
           -- after the plan make the ATTACH fail with check_violation: the
           -- tool re-plans that table. For a role that may not call
           -- pg_stat_file, the tool puts `false` in place of the size test
           -- (plan.rs, DEFAULT_FILE_EMPTY): every new partition moves rows.
           CASE WHEN pt.partdefid <> 0
                THEN coalesce((pg_catalog.pg_stat_file(pg_catalog.pg_relation_filepath(pt.partdefid), true)).size = 0,
                              false)
                ELSE false END AS default_empty,
           pg_catalog.pg_get_userbyid(c.relowner) AS owner,
           format('%I.%I', spec.sch, spec.tbl) AS parent_name,
           coalesce(spec.archive, d.archive_before_delete, false) AS archive,
           ('1 ' || spec.unit)::interval AS step,
           date_trunc(spec.unit, clock.ts) AS current_lo,
           least(clock.ts, clock.server)
               - coalesce(nullif(spec.retention, '')::interval, make_interval(days => d.retention_days)) AS cutoff
    FROM spec
    CROSS JOIN clock
    JOIN pg_catalog.pg_class c ON c.oid = spec.parent
    JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = spec.parent
    LEFT JOIN shared.data_retention_policies d ON d.table_name = spec.policy_key
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
), oldest AS (
    -- Grouped once and joined: a correlated min() per table rescanned the
    -- bounds of every table (quadratic in tables).
    SELECT b.ord, min(b.lo) AS lo FROM bounds b GROUP BY b.ord
), held AS (
    SELECT h.ord, h.lo::timestamp AS lo FROM unnest($11::bigint[], $12::text[]) AS h(ord, lo)
), oldest_kept AS (
    -- The oldest period a DEFAULT holds rows for that retention keeps: the
    -- window reaches back to it, so those rows get their partition and no
    -- gap is left between it and the rest (later runs would fill it). Only
    -- under a retention, which bounds how far back that goes: without one, a
    -- single row dated 1990 (or year 1) would make a partition per period
    -- since, so such rows stay in the DEFAULT (`partitions list` shows them).
    SELECT r.ord, min(h.lo) AS lo
    FROM resolved r
    JOIN held h ON h.ord = r.ord
    WHERE r.cutoff IS NOT NULL AND h.lo + r.step > r.cutoff
    GROUP BY r.ord
), windowed AS (
    SELECT r.*,
           greatest(least(coalesce(o.lo, r.current_lo), coalesce(k.lo, r.current_lo), r.current_lo),
                    coalesce(date_trunc(r.unit, r.cutoff), '-infinity'::timestamp)) AS start_lo
    FROM resolved r
    LEFT JOIN oldest o ON o.ord = r.ord
    LEFT JOIN oldest_kept k ON k.ord = r.ord
), missing AS (
    SELECT w.*, g.lo, g.lo + w.step AS hi,
           w.tbl || '_p' || to_char(g.lo, CASE w.unit WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY_MM_DD' END) AS name
    FROM windowed w
    CROSS JOIN LATERAL generate_series(w.start_lo, w.current_lo + w.premake * w.step, w.step) AS g(lo)
    WHERE NOT EXISTS (SELECT 1 FROM bounds b WHERE b.ord = w.ord AND b.lo < g.lo + w.step AND b.hi > g.lo)
      AND to_regclass(format('%I.%I', w.sch,
                             w.tbl || '_p' || to_char(g.lo, CASE w.unit WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY_MM_DD' END))) IS NULL
), policy AS (
    -- Each parent's policies, to copy onto its new partitions: the CREATE
    -- POLICY after the table's name. Deparsed without a relation, so the
    -- plan locks nothing; that works for expressions that name no column, as
    -- the blueprint's do. A policy that names a column cannot be deparsed
    -- so (rest NULL): its partitions' transactions copy the parent's
    -- policies themselves, once the parent is locked (kind copy_policies).
    SELECT r.ord, p.polname, x.names_columns,
           CASE WHEN NOT x.names_columns THEN
               format(' AS %s FOR %s TO %s', CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                      CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                    WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                      (SELECT string_agg(CASE WHEN role = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(role)) END, ', ')
                       FROM unnest(p.polroles) AS role))
               || coalesce(' USING (' || pg_catalog.pg_get_expr(p.polqual, 0) || ')', '')
               || coalesce(' WITH CHECK (' || pg_catalog.pg_get_expr(p.polwithcheck, 0) || ')', '')
           END AS rest
    FROM resolved r
    JOIN pg_catalog.pg_policy p ON p.polrelid = r.parent
    CROSS JOIN LATERAL (SELECT concat(p.polqual::text, p.polwithcheck::text) ~ '\{VAR ' AS names_columns) AS x
    WHERE r.relrowsecurity
), policy_set AS (
    -- Per parent, once: the policies the plan spells, and whether the tool
    -- must copy some itself. Joined by hash below (a lookup per new
    -- partition in the whole policy list was quadratic in tables).
    SELECT p.ord,
           array_agg(p.polname ORDER BY p.polname) FILTER (WHERE NOT p.names_columns) AS names,
           array_agg(p.rest ORDER BY p.polname) FILTER (WHERE NOT p.names_columns) AS rests,
           bool_or(p.names_columns) AS copies
    FROM policy p
    GROUP BY p.ord
), expired AS (
    SELECT r.*, b.nspname AS part_schema, b.relname AS part_name, b.lo,
           CASE WHEN r.sch = 'audit' THEN 'audit_archive' ELSE r.code || '_archive' END AS archive_schema
    FROM resolved r JOIN bounds b ON b.ord = r.ord
    WHERE r.cutoff IS NOT NULL AND b.hi <= r.cutoff
), released AS (
    -- Periods wholly older than the cutoff that the DEFAULT still holds rows
    -- for: released like an expired partition, without ever making one.
    SELECT w.*, h.lo, h.lo + w.step AS hi,
           w.tbl || '_p' || to_char(h.lo, CASE w.unit WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY_MM_DD' END) AS name,
           CASE WHEN w.sch = 'audit' THEN 'audit_archive' ELSE w.code || '_archive' END AS archive_schema
    FROM windowed w
    JOIN held h ON h.ord = w.ord
    WHERE w.partdefid <> 0 AND w.cutoff IS NOT NULL AND h.lo + w.step <= w.cutoff
), created AS (
    -- Every partition to create: a missing DEFAULT (phase 1) or a period's.
    SELECT r.*, 1 AS phase, NULL::timestamp AS lo, r.tbl || '_default' AS name FROM resolved r WHERE r.partdefid = 0
    UNION ALL
    SELECT m.code, m.sch, m.tbl, m.col, m.unit, m.premake, m.ord, m.parent, m.relowner, m.relrowsecurity,
           m.relforcerowsecurity, m.partdefid, m.default_empty, m.owner, m.parent_name, m.archive, m.step, m.current_lo,
           m.cutoff, 2, m.lo, m.name
    FROM missing m
), stmt_trigger AS (
    -- Each parent's statement-level triggers (read from the catalog, no lock):
    -- the definition split after the trigger's name, where ` ON <parent> ` follows.
    SELECT d.ord, 'CREATE TRIGGER ' || quote_ident(t.tgname) || ' ' AS head,
           substr(pg_catalog.pg_get_triggerdef(t.oid), length('CREATE TRIGGER ' || quote_ident(t.tgname) || ' ') + 1) AS tail
    FROM (SELECT DISTINCT ord, parent FROM created) AS d
    JOIN pg_catalog.pg_trigger t ON t.tgrelid = d.parent
    WHERE NOT t.tgisinternal AND t.tgconstraint = 0 AND (t.tgtype & 1) = 0
), fingerprint AS (
    -- What a new partition copies from its parent (owner, RLS flags,
    -- policies), for the parents that get one: the tool checks, under the
    -- tenant's lock, that it is unchanged (rollover_security.sql, the same
    -- expression).
    SELECT d.ord,
           (SELECT md5(concat_ws('|', c2.relowner, c2.relrowsecurity, c2.relforcerowsecurity,
                                 string_agg(concat_ws(',', p.polname, p.polcmd, p.polpermissive, p.polroles, p.polqual, p.polwithcheck),
                                            ';' ORDER BY p.polname)))
            FROM pg_catalog.pg_class c2 LEFT JOIN pg_catalog.pg_policy p ON p.polrelid = c2.oid
            WHERE c2.oid = d.parent GROUP BY c2.oid) AS security
    FROM (SELECT DISTINCT ord, parent FROM created) AS d
)
-- A DEFAULT partition where a table has none.
SELECT f.code, format('%I.%I', f.sch, f.name) AS tx, f.phase, f.ord AS seq, f.lo,
       s.n AS step, s.owner, s.kind, s.target, f.parent_name AS parent, s.ddl, fp.security
FROM created f
JOIN fingerprint fp ON fp.ord = f.ord
CROSS JOIN LATERAL (VALUES
    (1, '', 'lock', f.parent_name, format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', f.parent)),
    (3, f.owner, 'create', format('%I.%I', f.sch, f.name),
     format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', f.sch, f.name, f.parent))
) AS s(n, owner, kind, target, ddl)
WHERE f.phase = 1
UNION ALL
-- New partitions: lock, create standalone, move the DEFAULT's rows in, attach.
SELECT f.code, format('%I.%I', f.sch, f.name), f.phase, f.ord, f.lo, s.n, s.owner, s.kind, s.target, f.parent_name, s.ddl,
       fp.security
FROM created f
JOIN fingerprint fp ON fp.ord = f.ord
CROSS JOIN LATERAL (VALUES
    (1, '', 'lock', f.parent_name, format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', f.parent)),
    (2, '', 'lock', f.partdefid::regclass::text,
     CASE WHEN f.partdefid <> 0 THEN format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', f.partdefid::regclass) END),
    (3, f.owner, 'create', format('%I.%I', f.sch, f.name),
     format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION)',
            f.sch, f.name, f.parent)),
    (4, '', 'move', format('%I.%I', f.sch, f.name),
     CASE WHEN f.partdefid <> 0 AND NOT f.default_empty THEN
         format('WITH moved AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I.%I SELECT * FROM moved',
                f.partdefid::regclass, f.col, f.lo, f.col, f.lo + f.step, f.sch, f.name) END),
    (5, f.owner, 'attach', format('%I.%I', f.sch, f.name),
     format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)', f.parent, f.sch, f.name, f.lo, f.lo + f.step))
) AS s(n, owner, kind, target, ddl)
WHERE f.phase = 2 AND s.ddl IS NOT NULL
UNION ALL
-- Every new partition (a DEFAULT too): PostgreSQL clones row triggers onto
-- it but not the parent's statement-level ones, such as the audit log's
-- TRUNCATE guard or a pack's own on its append-only table: a copy of each,
-- the parent's definition re-aimed at the partition.
SELECT f.code, format('%I.%I', f.sch, f.name), f.phase, f.ord, f.lo, 9, f.owner, 'guard', format('%I.%I', f.sch, f.name),
       f.parent_name, t.head || overlay(t.tail PLACING format(' ON %I.%I ', f.sch, f.name)
                                        FROM strpos(t.tail, ' ON ' || f.parent_name || ' ')
                                        FOR length(' ON ' || f.parent_name || ' ')),
       fp.security
FROM created f
JOIN fingerprint fp ON fp.ord = f.ord
JOIN stmt_trigger t ON t.ord = f.ord
WHERE strpos(t.tail, ' ON ' || f.parent_name || ' ') > 0
UNION ALL
-- Every new partition, in its creating transaction: the parent's RLS flags
-- and policies (partitions inherit neither), as the parent's owner.
SELECT f.code, format('%I.%I', f.sch, f.name), f.phase, f.ord, f.lo, s.n, f.owner, s.kind,
       format('%I.%I', f.sch, f.name), f.parent_name, s.ddl, fp.security
FROM created f
JOIN fingerprint fp ON fp.ord = f.ord
LEFT JOIN policy_set ps ON ps.ord = f.ord
CROSS JOIN LATERAL (
    -- ENABLE and FORCE in one ALTER TABLE: one lock and one catalog update
    -- of the new partition instead of two.
    SELECT 6, 'secure', format('ALTER TABLE %I.%I ', f.sch, f.name)
                        || concat_ws(', ', CASE WHEN f.relrowsecurity THEN 'ENABLE ROW LEVEL SECURITY' END,
                                           CASE WHEN f.relforcerowsecurity THEN 'FORCE ROW LEVEL SECURITY' END)
    WHERE f.relrowsecurity OR f.relforcerowsecurity
    UNION ALL
    SELECT 8, 'secure', format('CREATE POLICY %I ON %I.%I', x.polname, f.sch, f.name) || x.rest
    FROM unnest(ps.names, ps.rests) AS x(polname, rest)
    UNION ALL
    -- ddl '': not a statement; the tool copies these policies itself.
    SELECT 8, 'copy_policies', '' WHERE ps.copies
) AS s(n, kind, ddl)
UNION ALL
-- Retention: lock the parent, detach, then drop or archive.
SELECT e.code, format('%I.%I', e.part_schema, e.part_name), 3, e.ord, e.lo, s.n, s.owner, s.kind,
       format('%I.%I', e.part_schema, e.part_name), e.parent_name, s.ddl, '' AS security
FROM expired e
CROSS JOIN LATERAL (VALUES
    (1, '', 'lock', format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', e.parent)),
    (2, e.owner, 'detach', format('ALTER TABLE %s DETACH PARTITION %I.%I', e.parent, e.part_schema, e.part_name)),
    -- Archived audit partitions go to audit_archive, owned like the log by
    -- provision_audit: in <code>_archive the tenant's owner could drop them.
    (3, '', 'prepare',
     CASE WHEN e.archive THEN format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', e.archive_schema, e.owner) END),
    (4, e.owner, CASE WHEN e.archive THEN 'archive' ELSE 'drop' END,
     CASE WHEN e.archive
          THEN format('ALTER TABLE %I.%I SET SCHEMA %I', e.part_schema, e.part_name, e.archive_schema)
          ELSE format('DROP TABLE %I.%I', e.part_schema, e.part_name) END),
    -- DETACH removes the row triggers cloned from the parent, the append-only
    -- guard among them: an archived audit partition gets it back, so its rows
    -- stay append-only (audit_no_truncate is its own and stays).
    (5, e.owner, 'guard',
     CASE WHEN e.archive AND e.sch = 'audit' THEN
         format('CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION audit.forbid_change()',
                e.archive_schema, e.part_name) END)
) AS s(n, owner, kind, ddl)
WHERE s.ddl IS NOT NULL
UNION ALL
-- The DEFAULT's rows of a released period: deleted, or moved into a table of
-- the archive schema shaped like the parent (one per period, as an archived
-- partition would be; an earlier archive of the same period takes them in).
SELECT r.code, format('%I.%I', r.sch, r.name), 4, r.ord, r.lo, s.n, s.owner, s.kind, s.target, r.parent_name, s.ddl,
       '' AS security
FROM released r
CROSS JOIN LATERAL (VALUES
    (1, '', 'lock', r.parent_name, format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', r.parent)),
    (2, '', 'lock', r.partdefid::regclass::text, format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', r.partdefid::regclass)),
    (3, '', 'prepare', r.archive_schema,
     CASE WHEN r.archive THEN format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', r.archive_schema, r.owner) END),
    (4, r.owner, 'prepare', format('%I.%I', r.archive_schema, r.name),
     CASE WHEN r.archive THEN
         format('CREATE TABLE IF NOT EXISTS %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING INDEXES)',
                r.archive_schema, r.name, r.parent) END),
    (5, '', CASE WHEN r.archive THEN 'archive_rows' ELSE 'release' END,
     CASE WHEN r.archive THEN format('%I.%I', r.archive_schema, r.name) ELSE format('%I.%I', r.sch, r.name) END,
     CASE WHEN r.archive
          THEN format('WITH moved AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I.%I SELECT * FROM moved',
                      r.partdefid::regclass, r.col, r.lo, r.col, r.hi, r.archive_schema, r.name)
          ELSE format('DELETE FROM %s WHERE %I >= %L AND %I < %L', r.partdefid::regclass, r.col, r.lo, r.col, r.hi) END),
    -- An archived audit period is append-only, as an archived audit partition is.
    (6, r.owner, 'guard', format('%I.%I', r.archive_schema, r.name),
     CASE WHEN r.archive AND r.sch = 'audit' THEN
         format('CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION audit.forbid_change()',
                r.archive_schema, r.name) END),
    (7, r.owner, 'guard', format('%I.%I', r.archive_schema, r.name),
     CASE WHEN r.archive AND r.sch = 'audit' THEN
         format('CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION audit.forbid_change()',
                r.archive_schema, r.name) END)
) AS s(n, owner, kind, target, ddl)
WHERE s.ddl IS NOT NULL
ORDER BY 1, 3, 4, 5, 6, 11
