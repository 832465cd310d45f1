-- A core version that was split (its blueprint part moved): this binary's
-- checksum replaces the old one, matched exactly.
UPDATE provision.refinery_schema_history SET checksum = $3 WHERE version = $1 AND checksum = $2
