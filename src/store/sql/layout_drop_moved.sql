-- A core history row of a version that moved whole into a blueprint's shared
-- part; matched on the old checksum too, so nothing else is ever deleted.
DELETE FROM provision.refinery_schema_history WHERE version = $1 AND checksum = $2
