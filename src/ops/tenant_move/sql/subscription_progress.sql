-- The subscription's table synchronisation on the target: tables not yet ready, all tables, and the errors it met
-- (pg_stat_subscription_stats). $1 subscription.
SELECT count(r.srrelid) FILTER (WHERE r.srsubstate <> 'r') AS syncing,
       count(r.srrelid) AS tables,
       coalesce((SELECT st.apply_error_count + st.sync_error_count FROM pg_catalog.pg_stat_subscription_stats st
                 WHERE st.subid = s.oid), 0)::bigint AS errors
FROM pg_catalog.pg_subscription s
JOIN pg_catalog.pg_database d ON d.oid = s.subdbid AND d.datname = current_database()
LEFT JOIN pg_catalog.pg_subscription_rel r ON r.srsubid = s.oid
WHERE s.subname = $1
GROUP BY s.oid
