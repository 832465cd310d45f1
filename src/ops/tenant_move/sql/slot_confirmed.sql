-- Whether the subscriber has applied and flushed everything up to $2 (an LSN) through slot $1.
SELECT coalesce(bool_and(confirmed_flush_lsn >= $2::text::pg_lsn), false)
FROM pg_catalog.pg_replication_slots WHERE slot_name = $1
