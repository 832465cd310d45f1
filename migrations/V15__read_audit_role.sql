-- The role pgaudit's object-level auditing keys on (`pgaudit.role`): SELECT
-- granted to it on a table makes pgaudit log every read of that table, and
-- nothing else. It is NOLOGIN and must never have members — a member would
-- read every audited table — which `provision verify` checks. Blueprints
-- name their audited tables in `[audit] reads`; src/store/read_audit.rs
-- grants and configures. Roles are cluster-wide: another database of the
-- cluster may have made it.
DO $auditor$
BEGIN
    CREATE ROLE provision_auditor NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$auditor$;
