-- The three roles of one tenant, created if missing and made members of the
-- group roles that carry their shared privileges (V10). Roles are
-- cluster-wide: another database of the same cluster may create them at the
-- same moment, so "already exists" and a concurrent insert both mean done.
-- {{ owner }} {{ app }} {{ ro }} are string literals of validated role names.
DO $roles$
DECLARE
    wanted CONSTANT text[][] := ARRAY[[{{ owner }}, 'provision_tenant_owners'],
                                      [{{ app }}, 'provision_tenant_apps'],
                                      [{{ ro }}, 'provision_tenant_readers']];
    i int;
BEGIN
    FOR i IN 1 .. array_length(wanted, 1) LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS',
                           wanted[i][1]);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
        BEGIN
            EXECUTE format('GRANT %I TO %I', wanted[i][2], wanted[i][1]);
        EXCEPTION WHEN unique_violation THEN NULL;
        END;
    END LOOP;
END
$roles$;
-- A pre-existing role of the same name must not smuggle in power.
SELECT rolname FROM pg_catalog.pg_roles
WHERE rolname IN ({{ owner }}, {{ app }}, {{ ro }}) AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb);
