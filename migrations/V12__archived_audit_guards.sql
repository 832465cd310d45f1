-- Issue 11: archived audit partitions keep every guard.
-- `partitions rollover` with archive moves an expired audit partition to schema audit_archive. DETACH removes the row
-- triggers PostgreSQL cloned from the log, the append-only guard audit_append_only among them, so until this fix an
-- archived partition kept only its own audit_no_truncate and its owner (provision_audit) could UPDATE and DELETE its
-- rows. Rollover now recreates the guard on every partition it archives; this gives it back to partitions archived
-- before, and adds either guard wherever one is missing. Idempotent; does nothing where audit_archive does not exist.
-- shared.data_retention_policies.archive_before_delete (V9) is now read: when tenants.toml sets no `archive`, it
-- decides whether an expired partition of that table is archived or dropped.
DO $$
DECLARE
    archived regclass;
BEGIN
    FOR archived IN
        SELECT c.oid::regclass
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'audit_archive' AND c.relkind = 'r'
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'audit_append_only')
    LOOP
        EXECUTE format('CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION audit.forbid_change()', archived);
    END LOOP;
    FOR archived IN
        SELECT c.oid::regclass
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'audit_archive' AND c.relkind = 'r'
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'audit_no_truncate')
    LOOP
        EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit.forbid_change()', archived);
    END LOOP;
END
$$;

COMMENT ON COLUMN shared.data_retention_policies.archive_before_delete IS
    'partitions rollover: archive (true) or drop (false) expired partitions of this table when tenants.toml sets no archive';
