-- bench/rollover_under_load.sh: the state a database that has run for months
-- is in. Months -4..-1 of every partitioned table of tenant :code (created by
-- the parent's owner, as rollover did then; the audit log's guards completed
-- by audit.ensure_audit_log), :rows rows in each of them and in the current
-- month, and :rows rows per table waiting in the DEFAULT partition for month
-- +5 (which the rollover creates, so it must move them).
\set ON_ERROR_STOP on
SELECT format('SET ROLE %I; CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L); RESET ROLE',
              CASE WHEN t.sch = 'audit' THEN 'provision_audit' ELSE :'code' || '_owner' END,
              t.sch, t.tbl || '_p' || to_char(m, 'YYYY_MM'), t.sch, t.tbl, m, m + interval '1 month')
FROM (VALUES (:'code' || '_schema', 'user_events'), (:'code' || '_schema', 'session_analytics'),
             (:'code' || '_schema', 'video_analytics'), ('audit', :'code' || '_audit_log')) AS t(sch, tbl),
     generate_series(-4, -1) AS k,
     LATERAL (SELECT date_trunc('month', localtimestamp) + k * interval '1 month' AS m) x
\gexec
SELECT audit.ensure_audit_log(:'code');
-- Rows: months -4..0 spread over each month, and month +5 (DEFAULT).
SELECT format($f$INSERT INTO %s SELECT %s FROM generate_series(1, %s) g,
                  LATERAL (SELECT date_trunc('month', localtimestamp) + (%s * interval '1 month')
                                  + (g %% 600) * interval '1 hour' AS ts) x$f$,
              target, cols, :rows, k)
FROM (VALUES
        (format('%I.user_events (event_type, "timestamp")', :'code' || '_schema'), $$'seed', ts$$),
        (format('%I.session_analytics (event_type, "timestamp")', :'code' || '_schema'), $$'seed', ts$$),
        (format('%I.video_analytics (started_at)', :'code' || '_schema'), $$ts$$),
        (format('audit.%I (table_name, record_id, operation, "timestamp")', :'code' || '_audit_log'),
         $$'seed', g::text, 'INSERT', ts$$)) AS t(target, cols),
     (VALUES (-4), (-3), (-2), (-1), (0), (5)) AS months(k)
\gexec
ANALYZE;
