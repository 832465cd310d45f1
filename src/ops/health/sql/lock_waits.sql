-- Sessions (of every database of the server) waiting on a lock for at least
-- $1 seconds, with the sessions blocking them. pg_locks.waitstart (14+) says
-- when the wait began. The object is named where this database can resolve
-- it; queries are not shown (they may carry data).
SELECT w.pid,
       coalesce(a.usename::text, '?') AS usename,
       coalesce(a.datname::text, '?') AS datname,
       extract(epoch FROM pg_catalog.clock_timestamp() - w.waitstart)::float8 AS waiting_seconds,
       w.mode,
       CASE
           WHEN w.locktype = 'relation' AND w.database = (SELECT oid FROM pg_catalog.pg_database
                                                          WHERE datname = pg_catalog.current_database())
               THEN 'relation ' || w.relation::regclass::text
           WHEN w.locktype = 'relation' THEN 'relation ' || w.relation || ' of another database'
           ELSE w.locktype
       END AS object,
       pg_catalog.pg_blocking_pids(w.pid) AS blocked_by
FROM pg_catalog.pg_locks w
LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = w.pid
WHERE NOT w.granted
  AND w.pid <> pg_catalog.pg_backend_pid()
  AND w.waitstart IS NOT NULL
  AND w.waitstart <= pg_catalog.clock_timestamp() - pg_catalog.make_interval(secs => $1::float8)
ORDER BY w.waitstart
