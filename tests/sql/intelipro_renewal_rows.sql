-- One row in every table of an intelipro_renewal tenant (search_path = the tenant schema, app.tenant_id set,
-- test.key = the encryption key). Used by tests/intelipro_renewal.rs.
INSERT INTO organizational_hierarchy (code, name, level) VALUES ('HQ', 'Head office', 'company');
INSERT INTO channels (code, name, channel_type, org_unit_id)
    SELECT 'AGY', 'Agency', 'agency', id FROM organizational_hierarchy WHERE code = 'HQ';
INSERT INTO users (email, role_id, mfa_secret)
    SELECT 'agent@test.example', id, shared.encrypt('JBSWY3DPEHPK3PXP', current_setting('test.key')) FROM roles
    WHERE name = 'agent';
INSERT INTO user_sessions (user_id, token_hash, expires_at)
    SELECT id, md5('t'), now() + interval '1 hour' FROM users WHERE email = 'agent@test.example';
INSERT INTO customers (customer_number, first_name, email, channel_id)
    SELECT 'C-1', 'Asha', 'asha@test.example', id FROM channels;
INSERT INTO customer_profiles (customer_id, churn_risk) SELECT id, 0.25 FROM customers;
INSERT INTO policy_types (code, name, line_of_business) VALUES ('MOTOR', 'Private car', 'motor');
INSERT INTO policies (policy_number, customer_id, policy_type_id, start_date, end_date, premium_amount)
    SELECT 'P-1', c.id, t.id, current_date - 300, current_date + 65, 12000 FROM customers c, policy_types t;
INSERT INTO renewal_cases (case_number, policy_id, customer_id, due_date)
    SELECT 'R-1', p.id, p.customer_id, p.end_date FROM policies p;
INSERT INTO case_history (case_id, to_status) SELECT id, 'open' FROM renewal_cases;
INSERT INTO claims (claim_number, policy_id, customer_id, incident_date, claimed_amount)
    SELECT 'CL-1', id, customer_id, current_date - 30, 5000 FROM policies;
INSERT INTO claim_history (claim_id, to_status) SELECT id, 'reported' FROM claims;
INSERT INTO outstanding_amounts (policy_id, customer_id, installment_number, due_date, amount_due)
    SELECT id, customer_id, 1, current_date + 10, 3000 FROM policies;
INSERT INTO templates (name, channel, subject, body) VALUES ('reminder', 'email', 'Renewal due', 'Dear {{name}}');
INSERT INTO campaigns (name, channel, template_id) SELECT 'Q1 renewals', 'email', id FROM templates;
INSERT INTO campaign_recipients (campaign_id, customer_id, address)
    SELECT k.id, c.id, c.email FROM campaigns k, customers c;
INSERT INTO email_accounts (email_address, imap_password, smtp_password)
    VALUES ('renewals@test.example', shared.encrypt('imap', current_setting('test.key')),
            shared.encrypt('smtp', current_setting('test.key')));
INSERT INTO email_threads (email_account_id, customer_id, subject)
    SELECT a.id, c.id, 'Renewal' FROM email_accounts a, customers c;
INSERT INTO emails (thread_id, email_account_id, customer_id, direction, from_address, to_addresses)
    SELECT t.id, t.email_account_id, t.customer_id, 'outbound', 'renewals@test.example', ARRAY['asha@test.example']
    FROM email_threads t;
-- A row dated before the partition window: it lands in the DEFAULT partition.
INSERT INTO emails (email_account_id, direction, from_address, to_addresses, created_at)
    SELECT id, 'inbound', 'asha@test.example', ARRAY['renewals@test.example'], now() - interval '2 years'
    FROM email_accounts;
INSERT INTO surveys (title) VALUES ('After renewal');
INSERT INTO survey_responses (survey_id, customer_id, nps_score) SELECT s.id, c.id, 9 FROM surveys s, customers c;
INSERT INTO whatsapp_templates (name, category, body) VALUES ('renewal_reminder', 'utility', 'Your policy {{1}}');
INSERT INTO whatsapp_messages (customer_id, template_id, direction, wa_number)
    SELECT c.id, t.id, 'outbound', '+910000000000' FROM customers c, whatsapp_templates t;
INSERT INTO notifications (user_id, title, message) SELECT id, 'Case', 'Assigned' FROM users;
INSERT INTO system_alerts (source, severity, title) VALUES ('mail-sync', 'warning', 'slow');
INSERT INTO audit_logs (action, entity_type) VALUES ('LOGIN', 'users');
INSERT INTO data_retention_policies (table_name, retention_days) VALUES ('emails', 730);
INSERT INTO social_media_integrations (platform, account_name, access_token)
    VALUES ('facebook', 'acme', shared.encrypt('EAAB', current_setting('test.key')));
INSERT INTO platform_verifications (customer_id, platform) SELECT id, 'whatsapp' FROM customers;
INSERT INTO vendor_communications (vendor_name, channel, period_date, messages_sent) VALUES ('mailer', 'email', current_date, 1);
INSERT INTO communication_delivery_status (channel, message_id, status, vendor_name)
    SELECT 'email', gen_random_uuid(), 'delivered', 'mailer';
INSERT INTO communication_delivery_status (channel, message_id, status, created_at)
    SELECT 'email', gen_random_uuid(), 'bounced', now() - interval '2 years';
INSERT INTO files (storage_key, original_name, size_bytes) VALUES ('k/1', 'renewals.csv', 10);
INSERT INTO upload_batches (batch_number, batch_type) VALUES ('B-1', 'policy_import');
INSERT INTO file_uploads (batch_id, file_id, upload_type) SELECT b.id, f.id, 'policy_import' FROM upload_batches b, files f;
