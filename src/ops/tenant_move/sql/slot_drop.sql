-- Drops the move's slot and any table-sync slot its subscription left (an interrupted run), when no walsender uses
-- them. $1 slot; $2 the slot-name pattern of the subscription's table-sync slots ('' when unknown).
SELECT slot_name::text, pg_catalog.pg_drop_replication_slot(slot_name)
FROM pg_catalog.pg_replication_slots
WHERE (slot_name = $1 OR ($2 <> '' AND slot_name LIKE $2)) AND NOT active
