-- The shipped blueprint's part of provision's migration V9 (audit): the session settings convention applied to the
-- portal and callback tables (V4, V5 here), RLS forced on every one of them, encryption of the portal's sensitive
-- columns, and the retention rows naming this blueprint's tables. The statements are byte for byte those of core V9
-- (whose comments still say V7/V8 for V4/V5 here); the settings convention is documented there.
-- Until blueprint packs this was part of core V9: a database made then records it in provision.refinery_schema_history
-- as version 9 with the checksum below, and `provision up` re-records it in this blueprint's shared history.
-- provision:replaces-core-version 9 checksum 9028217683398047834

-- ---------------------------------------------------------------------------
-- Data retention rows for this blueprint's tables (the table and the audit_log row are core V9)
-- ---------------------------------------------------------------------------

-- seed: seed 001 archive_old_data() archived user_events after 2 years (730 days here).
-- DO NOTHING: a period an operator changed later must never be reset.
INSERT INTO shared.data_retention_policies (table_name, retention_days, archive_before_delete, description)
VALUES
    ('insurance_policies', 2555, true,  'Policies: 7 years (seed 002)'),
    ('premium_payments',   2555, true,  'Payments: 7 years, financial compliance (seed 002)'),
    ('user_events',         730, true,  'Behaviour events: archived after 2 years (seed 001 §4.2 archive_old_data)'),
    ('notifications',        90, false, 'Notifications: 90 days, purged (seed 002)'),
    ('user_sessions',        30, false, 'Sessions: 30 days, expired sessions cleaned up (seed 002)')
ON CONFLICT (table_name) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Portal (V7) and callback (V8) tables: one settings convention, RLS on every table, forced
-- ---------------------------------------------------------------------------

-- seed: the policies read app.current_tenant_id / app.current_user_id (kept by V7/V8); recreated with app.tenant_id /
-- app.user_id, the one convention of the tenant schemas and the audit trigger. Same names, same meaning otherwise.
-- seed: app.user_role IN ('admin', 'manager') kept as the seed wrote it (portal_users.role uses other labels).
DROP POLICY portal_users_tenant_isolation ON portal.portal_users;
CREATE POLICY portal_users_tenant_isolation ON portal.portal_users
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

DROP POLICY portal_customers_tenant_isolation ON portal.portal_customers;
CREATE POLICY portal_customers_tenant_isolation ON portal.portal_customers
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

DROP POLICY portal_customers_agent_access ON portal.portal_customers;
CREATE POLICY portal_customers_agent_access ON portal.portal_customers
    AS RESTRICTIVE
    FOR ALL USING (agent_id = NULLIF(current_setting('app.user_id', true), '')::UUID OR
                   current_setting('app.user_role', true) IN ('admin', 'manager'));

DROP POLICY portal_policies_tenant_isolation ON portal.portal_policies;
CREATE POLICY portal_policies_tenant_isolation ON portal.portal_policies
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

DROP POLICY portal_policies_agent_access ON portal.portal_policies;
CREATE POLICY portal_policies_agent_access ON portal.portal_policies
    AS RESTRICTIVE
    FOR ALL USING (agent_id = NULLIF(current_setting('app.user_id', true), '')::UUID OR
                   current_setting('app.user_role', true) IN ('admin', 'manager'));

DROP POLICY import_jobs_tenant_isolation ON portal.import_jobs;
CREATE POLICY import_jobs_tenant_isolation ON portal.import_jobs
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

DROP POLICY lic_sync_jobs_tenant_isolation ON portal.lic_sync_jobs;
CREATE POLICY lic_sync_jobs_tenant_isolation ON portal.lic_sync_jobs
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

DROP POLICY callback_requests_tenant_isolation ON portal.callback_requests;
CREATE POLICY callback_requests_tenant_isolation ON portal.callback_requests
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

DROP POLICY callback_requests_agent_access ON portal.callback_requests;
CREATE POLICY callback_requests_agent_access ON portal.callback_requests
    AS RESTRICTIVE
    FOR ALL USING (agent_id = NULLIF(current_setting('app.user_id', true), '')::UUID OR
                   current_setting('app.user_role', true) IN ('admin', 'manager'));

DROP POLICY callback_activities_tenant_isolation ON portal.callback_activities;
CREATE POLICY callback_activities_tenant_isolation ON portal.callback_activities
    FOR ALL USING (
        EXISTS (
            SELECT 1 FROM portal.callback_requests cr
            WHERE cr.callback_request_id = callback_activities.callback_request_id
            AND cr.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID
        )
    );

DROP POLICY agent_callback_capacity_tenant_isolation ON portal.agent_callback_capacity;
CREATE POLICY agent_callback_capacity_tenant_isolation ON portal.agent_callback_capacity
    FOR ALL USING (
        EXISTS (
            SELECT 1 FROM portal.portal_users pu
            WHERE pu.user_id = agent_callback_capacity.agent_id
            AND pu.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID
        )
    );

DROP POLICY callback_metrics_daily_tenant_isolation ON portal.callback_metrics_daily;
CREATE POLICY callback_metrics_daily_tenant_isolation ON portal.callback_metrics_daily
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

DROP POLICY agent_callback_performance_tenant_isolation ON portal.agent_callback_performance;
CREATE POLICY agent_callback_performance_tenant_isolation ON portal.agent_callback_performance
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

-- seed: RLS only on portal_users, portal_customers, portal_policies, import_jobs, lic_sync_jobs, callback_requests,
-- callback_activities, agent_callback_capacity, callback_metrics_daily, agent_callback_performance; every other portal table
-- holds tenant rows too, so it gets RLS and a tenant-isolation policy: by its tenant_id, or through the parent row it
-- belongs to when it has no tenant_id (import_records -> import_jobs, dashboard_preferences -> portal_users,
-- callback_sla_tracking -> callback_requests; the parent's own policies apply inside the EXISTS as well).
CREATE POLICY agent_hierarchy_tenant_isolation ON portal.agent_hierarchy
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

CREATE POLICY import_records_tenant_isolation ON portal.import_records
    FOR ALL USING (
        EXISTS (
            SELECT 1 FROM portal.import_jobs ij
            WHERE ij.import_job_id = import_records.import_job_id
            AND ij.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID
        )
    );

CREATE POLICY excel_templates_tenant_isolation ON portal.excel_templates
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

CREATE POLICY portal_audit_log_tenant_isolation ON portal.portal_audit_log
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

CREATE POLICY portal_reports_tenant_isolation ON portal.portal_reports
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

CREATE POLICY dashboard_preferences_tenant_isolation ON portal.dashboard_preferences
    FOR ALL USING (
        EXISTS (
            SELECT 1 FROM portal.portal_users pu
            WHERE pu.user_id = dashboard_preferences.user_id
            AND pu.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID
        )
    );

CREATE POLICY callback_queues_tenant_isolation ON portal.callback_queues
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

CREATE POLICY callback_escalation_rules_tenant_isolation ON portal.callback_escalation_rules
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

CREATE POLICY callback_templates_tenant_isolation ON portal.callback_templates
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID);

CREATE POLICY callback_sla_tracking_tenant_isolation ON portal.callback_sla_tracking
    FOR ALL USING (
        EXISTS (
            SELECT 1 FROM portal.callback_requests cr
            WHERE cr.callback_request_id = callback_sla_tracking.callback_request_id
            AND cr.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::UUID
        )
    );

-- ENABLE on every portal table (a no-op where V7/V8 already did it) and FORCE, so that a non-superuser owner of
-- these tables is held to the policies too.
ALTER TABLE portal.portal_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_users FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.agent_hierarchy ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.agent_hierarchy FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.import_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.import_jobs FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.import_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.import_records FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.excel_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.excel_templates FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.lic_sync_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.lic_sync_jobs FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_audit_log FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_customers FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_policies FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_reports FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.dashboard_preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.dashboard_preferences FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_requests FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_activities FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_queues ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_queues FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.agent_callback_capacity ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.agent_callback_capacity FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_escalation_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_escalation_rules FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_templates FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_metrics_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_metrics_daily FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.agent_callback_performance ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.agent_callback_performance FORCE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_sla_tracking ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_sla_tracking FORCE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------
-- Portal sensitive columns (V7: "encrypted by a later change")
-- ---------------------------------------------------------------------------

-- seed: aadhaar_number VARCHAR(12) and pan_number VARCHAR(10) held the plain numbers; they now hold ciphertext only: the
-- lower-case hex of a pgcrypto OpenPGP symmetric message, as <code>_schema.encrypt_sensitive_data(value, key) returns
-- (encode(pgp_sym_encrypt(...), 'hex'): a new-format tag-3 packet, version 4, so it starts c3..04). TEXT, since the
-- ciphertext is far longer than the number. Equality search on these needs a separate keyed hash; none is added here.
-- The CHECKs are added NOT VALID (enforced on every new or updated row) and then validated; in a database that already
-- holds plaintext the validation is skipped with a WARNING and the constraint stays NOT VALID until those rows are
-- re-encrypted and ALTER TABLE portal.portal_customers VALIDATE CONSTRAINT ... is run (an update of such a row fails until then).
-- portal_users.password_hash stays as it is: a one-way password hash (bcrypt or similar), not something to decrypt.
ALTER TABLE portal.portal_customers
    ALTER COLUMN aadhaar_number TYPE TEXT,
    ALTER COLUMN pan_number TYPE TEXT;

ALTER TABLE portal.portal_customers
    ADD CONSTRAINT portal_customers_aadhaar_number_encrypted_check
        CHECK (aadhaar_number ~ '^c3[0-9a-f]{2}04([0-9a-f]{2})+$') NOT VALID,
    ADD CONSTRAINT portal_customers_pan_number_encrypted_check
        CHECK (pan_number ~ '^c3[0-9a-f]{2}04([0-9a-f]{2})+$') NOT VALID;

DO $$
DECLARE
    con text;
BEGIN
    FOREACH con IN ARRAY ARRAY['portal_customers_aadhaar_number_encrypted_check', 'portal_customers_pan_number_encrypted_check'] LOOP
        BEGIN
            EXECUTE format('ALTER TABLE portal.portal_customers VALIDATE CONSTRAINT %I', con);
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING 'portal.portal_customers holds plaintext: constraint % left NOT VALID', con
                USING HINT = 'Re-encrypt those rows, then run ALTER TABLE portal.portal_customers VALIDATE CONSTRAINT ' || con || '.';
        END;
    END LOOP;
END
$$;
