-- As `tenant add` does: a tenant role that already exists here must not
-- bring power with it.
DO $role_guard$
DECLARE
    powerful text;
BEGIN
    SELECT string_agg(rolname, ', ' ORDER BY rolname) INTO powerful
    FROM pg_catalog.pg_roles
    WHERE rolname IN ({{ owner }}, {{ app }}, {{ ro }}) AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb);
    IF powerful IS NOT NULL THEN
        RAISE EXCEPTION 'role % already exists with superuser, BYPASSRLS, CREATEROLE or CREATEDB; a tenant role must have none', powerful;
    END IF;
END
$role_guard$;
