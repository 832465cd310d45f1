-- The statements that drop the move's subscription on the target, and the name pattern of the table-sync slots it
-- may have left on the source. The slot is detached first, so dropping never needs the source (which may be down);
-- slot_drop.sql then removes the slots there. $1 subscription.
SELECT unnest(ARRAY[format('ALTER SUBSCRIPTION %I DISABLE', s.subname),
                    format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', s.subname),
                    format('DROP SUBSCRIPTION %I', s.subname)]) AS statement,
       format('pg\_%s\_sync\_%%', s.oid) AS sync_slots
FROM pg_catalog.pg_subscription s
JOIN pg_catalog.pg_database d ON d.oid = s.subdbid AND d.datname = current_database()
WHERE s.subname = $1
