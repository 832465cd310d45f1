-- Refuse early, with a clear message, what cannot work.
DO $preconditions$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'restore this backup as a superuser (it creates roles and bypasses the audit triggers)';
    END IF;
    IF to_regclass('shared.tenants') IS NULL OR to_regprocedure('audit.ensure_audit_log(text)') IS NULL THEN
        RAISE EXCEPTION 'this database lacks the shared migrations; run `provision migrate` against it first';
    END IF;
    IF EXISTS (SELECT 1 FROM shared.tenants WHERE tenant_code = {{ code }})
       OR to_regnamespace({{ schema }}) IS NOT NULL THEN
        RAISE EXCEPTION 'tenant % already exists in this database; remove it first (provision tenant remove % --yes)',
                        {{ code }}, {{ code }};
    END IF;
END
$preconditions$;

-- Restored rows are old rows, not changes: with session_replication_role =
-- replica (superuser only) ordinary triggers do not fire for the rest of
-- this session, so loading the tables writes no audit rows (the audit log's
-- own rows are restored from the backup) and no foreign-key trigger checks
-- rows that are consistent by construction. Foreign keys are still
-- validated when pg_dump adds them. Reset at the end of the file.
SET session_replication_role = replica;

-- pg_dump's sections run with row_security = on: REFRESH MATERIALIZED VIEW
-- runs as the tenant's owner, whom FORCE ROW LEVEL SECURITY holds to the
-- policies (a superuser loading tables is not). As a blueprint's own refresh
-- functions do, the session names the tenant, so views are filled with its rows.
SET app.tenant_id = {{ tenant_id }};
