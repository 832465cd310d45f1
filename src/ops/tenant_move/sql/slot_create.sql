-- The move's replication slot on the source, made apart from the subscription so that both ends may be databases of
-- one cluster (CREATE SUBSCRIPTION would wait on itself making it). $1 slot.
SELECT pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput')
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)
