-- Group roles that carry what every tenant role of a kind may do outside its
-- own schema. Each tenant's <code>_owner / <code>_app / <code>_ro is made a
-- member when the tenant is created, so no per-tenant GRANT ever touches a
-- shared object (concurrent GRANTs on one object can fail with "tuple
-- concurrently updated"; membership inserts cannot collide that way).
-- Roles are cluster-wide: another database of the cluster may have made them.
DO $groups$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['provision_tenant_owners', 'provision_tenant_apps', 'provision_tenant_readers'] LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', name);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END LOOP;
END
$groups$;

-- Owners build tenant schemas: foreign keys to shared reference tables need REFERENCES.
GRANT USAGE ON SCHEMA shared TO provision_tenant_owners, provision_tenant_apps, provision_tenant_readers;
GRANT REFERENCES ON shared.insurance_providers TO provision_tenant_owners;

-- Applications and readers see the shared reference data, read-only; never
-- the registry, tenant configuration, imports or backups of other tenants.
GRANT SELECT ON shared.countries, shared.languages, shared.insurance_categories, shared.insurance_providers,
                shared.whatsapp_templates
    TO provision_tenant_apps, provision_tenant_readers;

-- Retention rules (V9) are reference data too.
GRANT SELECT ON shared.data_retention_policies TO provision_tenant_apps, provision_tenant_readers;
