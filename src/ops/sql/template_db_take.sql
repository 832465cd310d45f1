-- `db create` from the pool, in one round trip: rename one spare of the
-- template (settings from template_db_take_params.sql) to the new name, open
-- it and mark it as a clone, all in this one implicit transaction; then say
-- which spare it was ('' when none was left) and how many are left.
--
-- The rename is the claim: PostgreSQL locks the database, then looks it up
-- by name again, so of two callers renaming one spare the second waits for
-- the first to commit and then finds no such database (3D000). That spare
-- is skipped and the next tried; the random order keeps callers apart.
DO $take$
DECLARE
    prefix text := pg_catalog.current_setting('provision.take_prefix');
    target text := pg_catalog.current_setting('provision.take_name');
    spare text;
BEGIN
    PERFORM pg_catalog.set_config('provision.taken', '', false);
    FOR spare IN
        SELECT d.datname::text
        FROM pg_catalog.pg_database d
        WHERE starts_with(d.datname::text, prefix)
          AND substr(d.datname::text, length(prefix) + 1) ~ '^[0-9]+$'
          AND NOT d.datistemplate
        ORDER BY pg_catalog.random()
    LOOP
        BEGIN
            EXECUTE format('ALTER DATABASE %I RENAME TO %I', spare, target);
            EXECUTE format('ALTER DATABASE %I WITH ALLOW_CONNECTIONS true', target);
            EXECUTE format('COMMENT ON DATABASE %I IS %L', target,
                           pg_catalog.current_setting('provision.take_comment'));
            PERFORM pg_catalog.set_config('provision.taken', spare, false);
            RETURN;
        EXCEPTION WHEN invalid_catalog_name OR object_in_use THEN
            -- Taken by another caller since the query above (or, against
            -- the rule, connected to): the next one.
            NULL;
        END;
    END LOOP;
END
$take$;
SELECT pg_catalog.current_setting('provision.taken') AS taken,
       (SELECT count(*)
        FROM pg_catalog.pg_database d
        WHERE starts_with(d.datname::text, pg_catalog.current_setting('provision.take_prefix'))
          AND substr(d.datname::text, length(pg_catalog.current_setting('provision.take_prefix')) + 1) ~ '^[0-9]+$'
          AND NOT d.datistemplate)::text AS left;
