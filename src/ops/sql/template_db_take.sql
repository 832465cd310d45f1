-- `db create` from the pool, in one round trip: rename one spare (settings
-- from template_db_take_params.sql) to the new name, open it and mark it as
-- a clone of its template, all in this one implicit transaction; then say
-- which spare it was ('' when none was left) and how many its template has left.
--
-- The rename is the claim: PostgreSQL locks the database, then looks it up
-- by name again, so of two callers renaming one spare the second waits for
-- the first to commit and then finds no such database (3D000). That spare
-- is skipped and the next tried; the random order keeps callers apart.
--
-- A label names the current periods on the clock template_db_server.sql
-- uses (every unit, in its format), so a spare labelled before a period
-- turned is not taken by its label.
DO $take$
DECLARE
    prefix text := pg_catalog.current_setting('provision.take_prefix');
    target text := pg_catalog.current_setting('provision.take_name');
    label text := pg_catalog.current_setting('provision.take_label');
    spare text;
BEGIN
    PERFORM pg_catalog.set_config('provision.taken', '', false);
    IF label <> '' THEN
        label := label || (SELECT string_agg(u || ':' || date_trunc(u, localtimestamp)::date::text, ',' ORDER BY u)
                           FROM unnest(ARRAY['day', 'month', 'week']) AS u);
    END IF;
    FOR spare IN
        SELECT d.datname::text
        FROM pg_catalog.pg_database d
        WHERE d.datname ~ '^provision_tpl_[0-9a-f]{16}_spare_[0-9]+$'
          AND starts_with(d.datname::text, prefix)
          AND NOT d.datistemplate
          AND (label = '' OR pg_catalog.shobj_description(d.oid, 'pg_database') = label)
        ORDER BY pg_catalog.random()
    LOOP
        BEGIN
            EXECUTE format('ALTER DATABASE %I RENAME TO %I', spare, target);
            EXECUTE format('ALTER DATABASE %I WITH ALLOW_CONNECTIONS true', target);
            EXECUTE format('COMMENT ON DATABASE %I IS %L', target,
                           pg_catalog.current_setting('provision.take_clone')
                           || substring(spare FROM '^(provision_tpl_[0-9a-f]{16})_spare_'));
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
SELECT t.taken,
       (SELECT count(*)
        FROM pg_catalog.pg_database d
        WHERE d.datname ~ '^provision_tpl_[0-9a-f]{16}_spare_[0-9]+$'
          AND starts_with(d.datname::text, substring(t.taken FROM '^(provision_tpl_[0-9a-f]{16}_spare_)'))
          AND NOT d.datistemplate)::text AS left
FROM (SELECT pg_catalog.current_setting('provision.taken') AS taken) AS t;
