-- Staging tables for the sample, shaped exactly like their targets (same
-- column order, so "SELECT *" lines up), gone at commit. search_path is the
-- tenant schema, so the LIKE sources are the tenant's tables.
CREATE TEMP TABLE seed_users (LIKE users INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE TEMP TABLE seed_agents (LIKE agents INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE TEMP TABLE seed_policyholders (LIKE policyholders INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE TEMP TABLE seed_insurance_policies (LIKE insurance_policies INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE TEMP TABLE seed_premium_payments (LIKE premium_payments INCLUDING DEFAULTS) ON COMMIT DROP;
