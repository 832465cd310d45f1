-- The tenant's audit log, when this database does not have it (after
-- `tenant remove` it is normally still there: it is kept for retention, and
-- then nothing here changes it). audit.ensure_audit_log creates the log
-- exactly as provisioning does (owned by provision_audit, append-only
-- guards); the partitions the log had at backup time follow, owned like
-- their parent. A partition whose range an existing one already covers is
-- skipped: its rows land in the partition that covers them.
-- The code, partition names and bounds below are literals filled in by provision.
DO $audit_log$
DECLARE
    code CONSTANT text := {{ code }};
    names CONSTANT text[] := {{ names }};
    bounds CONSTANT text[] := {{ bounds }};
    log regclass;
    i int;
BEGIN
    log := audit.ensure_audit_log(code);
    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        CONTINUE WHEN to_regclass(format('audit.%I', names[i])) IS NOT NULL;
        BEGIN
            EXECUTE format('CREATE TABLE audit.%I PARTITION OF %s %s', names[i], log, bounds[i]);
            EXECUTE format('ALTER TABLE audit.%I OWNER TO %I', names[i],
                           (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c WHERE c.oid = log));
        EXCEPTION WHEN invalid_object_definition OR check_violation THEN
            RAISE WARNING 'partition audit.% was not recreated: %', names[i], SQLERRM;
        END;
    END LOOP;
    -- The TRUNCATE guard of the new partitions (statement triggers are not cloned).
    PERFORM audit.ensure_audit_log(code);
END
$audit_log$;
