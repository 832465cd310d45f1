-- What the shared schemas' reference depends on besides the migrations: the
-- server build, template0's encoding and locale (the scratch database is made
-- from it), and the extension versions CREATE EXTENSION would install.
SELECT pg_catalog.version(),
       (SELECT pg_catalog.pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype
        FROM pg_catalog.pg_database WHERE datname = 'template0'),
       (SELECT string_agg(name || '=' || coalesce(default_version, ''), ',' ORDER BY name)
        FROM pg_catalog.pg_available_extensions)
