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

-- Every tenant role may name objects in schema shared; which of them it may read or reference is granted by the
-- blueprint that creates them (in its shared part), never the registry, tenant configuration or backups.
-- Split (issue 12, blueprint packs): the grants on the shipped blueprint's reference tables were here; they moved to
-- templates/agent_mitra/shared/V7, which a database made before records as part of this version (`up` re-records it).
GRANT USAGE ON SCHEMA shared TO provision_tenant_owners, provision_tenant_apps, provision_tenant_readers;

-- Retention rules (V9) are reference data too.
GRANT SELECT ON shared.data_retention_policies TO provision_tenant_apps, provision_tenant_readers;
