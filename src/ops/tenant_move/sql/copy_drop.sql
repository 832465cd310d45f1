-- What removing a tenant's copy from one database drops: its schema and its audit log (with partitions). Used on the
-- target by an abort and on the source once the target has taken over (after a backup). $1 schema, $2 audit log.
SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text)
UNION ALL
SELECT format('DROP TABLE IF EXISTS audit.%I CASCADE', $2::text)
