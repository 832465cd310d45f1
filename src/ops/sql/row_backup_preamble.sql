-- A row tenant's backup, restored with `psql -X -1 -v ON_ERROR_STOP=1 -f FILE` as a superuser into a database whose
-- pack tables exist (`provision up` made them) and where the tenant does not. Refuse early, clearly.
DO $preconditions$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'restore this backup as a superuser (it creates roles and bypasses the pack''s triggers)';
    END IF;
    IF to_regclass('shared.tenants') IS NULL OR to_regclass({{ table_literal }}) IS NULL THEN
        RAISE EXCEPTION 'this database lacks blueprint %''s tables; run `provision up` against it first', {{ blueprint }};
    END IF;
    IF EXISTS (SELECT 1 FROM shared.tenants WHERE tenant_code = {{ code }})
       OR EXISTS (SELECT 1 FROM {{ table }} WHERE {{ code_column }} = {{ code }}) THEN
        RAISE EXCEPTION 'tenant % already exists in this database; remove it first (provision tenant remove % --yes)',
                        {{ code }}, {{ code }};
    END IF;
END
$preconditions$;

-- Restored rows are old rows, not changes: with session_replication_role = replica (superuser only) the pack's
-- triggers (created_by, updated_at, its audit trail) and foreign-key triggers do not fire, so the rows come back
-- exactly as they were. Reset at the end of the file.
SET session_replication_role = replica;
SET row_security = off;
