-- Centre isolation (issue 14): forced row-level security on every table of centre data. The centre a transaction acts
-- for is cma.current_centre(): the centre whose id app.centre_id holds, read from cma.centres under that table's own
-- policy, which also asks shared.tenant_role_member(code) (core V17) whether the current role is a member of that
-- centre's <code>_app or <code>_ro role. So an unset or empty setting shows no row and raises no error, and a login of
-- centre A that sets centre B's id sees nothing: the setting names a centre, the role grants may act for it.
-- Soft-deleted rows (deleted_at set) are hidden from every role under these policies; superusers see all.

-- SECURITY INVOKER (the default), so cma.centres' policies apply to the caller.
CREATE FUNCTION cma.current_centre() RETURNS integer
LANGUAGE sql STABLE
AS $$
    SELECT id FROM cma.centres WHERE id = NULLIF(current_setting('app.centre_id', true), '')::integer
$$;

ALTER TABLE cma.centres ENABLE ROW LEVEL SECURITY;
ALTER TABLE cma.centres FORCE ROW LEVEL SECURITY;
CREATE POLICY centres_read ON cma.centres FOR SELECT USING (deleted_at IS NULL);
CREATE POLICY centres_update ON cma.centres FOR UPDATE USING (deleted_at IS NULL) WITH CHECK (true);
CREATE POLICY centres_tenant ON cma.centres AS RESTRICTIVE
    USING (id = NULLIF(current_setting('app.centre_id', true), '')::integer AND shared.tenant_role_member(code));

-- Per command, so that a soft delete works: an UPDATE may set deleted_at on a visible row (UPDATE's WITH CHECK is true),
-- and since an UPDATE with a WHERE clause must also leave a row its SELECT policy shows, the row soft-deleted by this
-- very transaction (stamp_row sets deleted_at to the transaction's timestamp) stays visible to it, to no later one.
DO $$
DECLARE
    t text;
    soft boolean;
    live text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'clients', 'cases', 'creditors', 'debts', 'budget_sheets', 'documents',
                             'case_notes', 'appointments', 'appointment_notes', 'case_compliance', 'ai_insights',
                             'audit_logs'] LOOP
        soft := EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_schema = 'cma' AND table_name = t AND column_name = 'deleted_at');
        live := CASE WHEN soft THEN 'deleted_at IS NULL' ELSE 'true' END;
        EXECUTE format('ALTER TABLE cma.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE cma.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON cma.%I FOR SELECT USING (%s)', t || '_read', t,
                       CASE WHEN soft THEN 'deleted_at IS NULL OR deleted_at = localtimestamp' ELSE 'true' END);
        EXECUTE format('CREATE POLICY %I ON cma.%I FOR INSERT WITH CHECK (%s)', t || '_insert', t, live);
        EXECUTE format('CREATE POLICY %I ON cma.%I FOR UPDATE USING (%s) WITH CHECK (true)', t || '_update', t, live);
        EXECUTE format('CREATE POLICY %I ON cma.%I FOR DELETE USING (%s)', t || '_delete', t, live);
        EXECUTE format('CREATE POLICY %I ON cma.%I AS RESTRICTIVE USING (centre_id = (SELECT cma.current_centre()))',
                       t || '_centre', t);
    END LOOP;
END $$;

-- The application reads and writes its centre's data; a reader only reads. The centre row itself is provision's
-- (tenant add / activate / remove): the application may change its contact details, settings and manager only.
-- audit_logs: INSERT and SELECT only (append-only, V2).
GRANT SELECT ON cma.centres TO provision_tenant_apps, provision_tenant_readers;
GRANT UPDATE (address_line1, address_line2, city, postcode, phone, email, manager_id, settings, updated_at)
    ON cma.centres TO provision_tenant_apps;
GRANT SELECT, INSERT, UPDATE, DELETE ON cma.users, cma.clients, cma.cases, cma.creditors, cma.debts, cma.budget_sheets,
    cma.documents, cma.case_notes, cma.appointments, cma.appointment_notes, cma.case_compliance, cma.ai_insights
    TO provision_tenant_apps;
GRANT SELECT, INSERT ON cma.audit_logs TO provision_tenant_apps;
GRANT SELECT ON ALL TABLES IN SCHEMA cma TO provision_tenant_readers;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA cma TO provision_tenant_apps;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cma TO provision_tenant_apps, provision_tenant_readers;
