-- The server settings `provision health` judges: version, the shared lock
-- table's size, and the preloaded libraries.
SELECT pg_catalog.current_setting('server_version') AS version,
       pg_catalog.current_setting('server_version_num')::int AS version_num,
       pg_catalog.current_setting('max_locks_per_transaction')::bigint AS max_locks,
       pg_catalog.current_setting('max_connections')::bigint AS max_connections,
       pg_catalog.current_setting('max_prepared_transactions')::bigint AS max_prepared,
       pg_catalog.current_setting('shared_preload_libraries') AS preload
