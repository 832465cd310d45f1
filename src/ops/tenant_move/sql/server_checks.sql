-- What a move needs of a server: wal_level (the source must be 'logical'), a superuser connection (publications,
-- subscriptions, session_replication_role) and its major version (the pg_dump an offline move runs).
SELECT current_setting('wal_level') AS wal_level,
       (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS superuser,
       current_setting('server_version_num')::int / 10000 AS major
