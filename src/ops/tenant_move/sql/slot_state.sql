-- How far the subscriber has confirmed the move's slot, and the source's WAL insert position (freeze.rs says why
-- insert, not write). $1 slot.
SELECT pg_catalog.pg_current_wal_insert_lsn()::text AS current,
       coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_insert_lsn(), confirmed_flush_lsn), -1)::bigint AS lag,
       active
FROM pg_catalog.pg_replication_slots WHERE slot_name = $1
