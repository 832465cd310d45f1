-- How many of the move's slots are still there. $1 slot; $2 table-sync slot pattern ('' when unknown).
SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 OR ($2 <> '' AND slot_name LIKE $2)
