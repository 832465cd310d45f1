-- The benchmark's 200 partitioned tables (4 per tenant: session_analytics,
-- user_events, video_analytics and audit.<code>_audit_log), one row each
-- with its partition column and RLS flags. Included by the other scripts.
CREATE TEMP VIEW bench_parents AS
SELECT c.oid::regclass AS parent, n.nspname AS sch, c.relname AS tbl, a.attname AS col,
       c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls
FROM pg_catalog.pg_partitioned_table p
JOIN pg_catalog.pg_class c ON c.oid = p.partrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
WHERE c.relkind = 'p'
  AND ((n.nspname ~ '^t[0-9]+_schema$' AND c.relname IN ('session_analytics', 'user_events', 'video_analytics'))
       OR (n.nspname = 'audit' AND c.relname ~ '^t[0-9]+_audit_log$'));

-- The 3 months after the current one: what `partitions rollover` creates
-- with premake = 3 when the current month exists.
CREATE TEMP VIEW bench_months AS
SELECT m::timestamp AS lo, (m + interval '1 month')::timestamp AS hi, to_char(m, 'YYYY_MM') AS suffix
FROM generate_series(date_trunc('month', localtimestamp) + interval '1 month',
                     date_trunc('month', localtimestamp) + interval '3 months',
                     interval '1 month') AS m;
