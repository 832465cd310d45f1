-- Flushes the server's WAL up to now (replicate.rs, nudge): a transaction that writes WAL (a transactional logical
-- decoding message, which touches no table) and commits synchronously whatever the server's setting.
BEGIN;
SET LOCAL synchronous_commit = on;
SELECT pg_catalog.pg_logical_emit_message(true, 'provision.move', '');
COMMIT;
