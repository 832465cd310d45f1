-- The shipped blueprint's part of provision's migration V10 (tenant role groups): what every tenant role may do with
-- this blueprint's shared reference tables (V1 here). The groups themselves are core V10; the statements are byte for
-- byte those of core V10.
-- Until blueprint packs this was part of core V10: a database made then records it in provision.refinery_schema_history
-- as version 10 with the checksum below, and `provision up` re-records it in this blueprint's shared history.
-- provision:replaces-core-version 10 checksum 2270968132448403919

-- Owners build tenant schemas: foreign keys to shared reference tables need REFERENCES.
GRANT REFERENCES ON shared.insurance_providers TO provision_tenant_owners;

-- Applications and readers see the shared reference data, read-only; never
-- the registry, tenant configuration, imports or backups of other tenants.
GRANT SELECT ON shared.countries, shared.languages, shared.insurance_categories, shared.insurance_providers,
                shared.whatsapp_templates
    TO provision_tenant_apps, provision_tenant_readers;
