-- bench/rollover_under_load.sh: what the rollover did, from the catalog, for
-- tenant :code, as one line: attached monthly partitions per table, rows left
-- in the DEFAULT partitions, partitions of months -4..-2 still attached, and
-- tables in the archive schemas.
\set schema :code _schema
\set log_default :code _audit_log_default
SELECT format('attached=%s default_rows=%s expired_attached=%s archived=%s',
  (SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent IN (format('%I.user_events', :'code' || '_schema')::regclass,
                         format('%I.session_analytics', :'code' || '_schema')::regclass,
                         format('%I.video_analytics', :'code' || '_schema')::regclass,
                         format('audit.%I', :'code' || '_audit_log')::regclass)
     AND c.relname !~ '_default$'),
  (SELECT sum(n) FROM (
     SELECT count(*) AS n FROM ONLY :"schema".user_events_default UNION ALL
     SELECT count(*) FROM ONLY :"schema".session_analytics_default UNION ALL
     SELECT count(*) FROM ONLY :"schema".video_analytics_default UNION ALL
     SELECT count(*) FROM ONLY audit.:"log_default") d),
  (SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE c.relname ~ ('_p' || to_char(date_trunc('month', localtimestamp) - interval '2 months', 'YYYY_MM') || '$')
      OR c.relname ~ ('_p' || to_char(date_trunc('month', localtimestamp) - interval '3 months', 'YYYY_MM') || '$')
      OR c.relname ~ ('_p' || to_char(date_trunc('month', localtimestamp) - interval '4 months', 'YYYY_MM') || '$')),
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname IN ('audit_archive', :'code' || '_archive') AND c.relkind = 'r'));
