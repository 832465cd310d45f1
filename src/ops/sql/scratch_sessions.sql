-- Sessions still connected to a scratch database verify is about to drop.
-- (DROP DATABASE … WITH (FORCE) would end them itself, but it then polls for
-- their exit every 100 ms; a closed client's session is gone within a
-- millisecond.) $1 the database.
SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()
