-- Seed 004 "CPT/ICD Codes: Medical code reference data", once per database for every claimflow tenant.
-- seed: the codes were loaded per database by prisma/seed.ts with the demo data; here they are the pack's shared
-- part (schema claimflow_codes), versioned like a migration, and no tenant can write them.

CREATE SCHEMA IF NOT EXISTS claimflow_codes;

-- ICD-10-CM diagnosis codes (CMS/NCHS, public domain). code is printed with its dot (E11.9); billable marks a code
-- valid for submission on a claim (a leaf of the tabular list).
CREATE TABLE claimflow_codes.icd10cm_codes (
    code VARCHAR(8) PRIMARY KEY CHECK (code ~ '^[A-TV-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?$'),
    description TEXT NOT NULL,
    billable BOOLEAN NOT NULL DEFAULT true,
    -- the CMS release the row comes from, e.g. 'FY2026 (April 2026)'
    release VARCHAR(40) NOT NULL
);

-- CPT procedure codes. The code numbers are listed; the AMA's descriptors are copyrighted and licensed, so none is
-- shipped: every description here is synthetic and says so (description_is_synthetic), to be replaced by an
-- organisation that licenses the CPT data file.
CREATE TABLE claimflow_codes.cpt_codes (
    code CHAR(5) PRIMARY KEY CHECK (code ~ '^[0-9]{4}[0-9FTU]$'),
    description TEXT NOT NULL,
    description_is_synthetic BOOLEAN NOT NULL DEFAULT true,
    category VARCHAR(60) NOT NULL
);

-- Read-only for every tenant role; the tenant owners may reference them from later versions.
GRANT USAGE ON SCHEMA claimflow_codes TO provision_tenant_owners, provision_tenant_apps, provision_tenant_readers;
GRANT SELECT, REFERENCES ON claimflow_codes.icd10cm_codes, claimflow_codes.cpt_codes TO provision_tenant_owners;
GRANT SELECT ON claimflow_codes.icd10cm_codes, claimflow_codes.cpt_codes
    TO provision_tenant_apps, provision_tenant_readers;
