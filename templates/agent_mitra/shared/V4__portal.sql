-- Until blueprint packs this file was provision's own migration V7 (its comments still use those numbers:
-- V3, V4, V6, V7, V8, V9 there are V1, V2, V3, V4, V5, V6 here). A database made then records it in
-- provision.refinery_schema_history with the checksum below; `provision up` re-records it in this blueprint's
-- shared history. The statements are unchanged, byte for byte.
-- provision:replaces-core-version 7 checksum 9961890249729483848

-- Seed 001 §6 "Agent Configuration Portal Database Schemas".
-- seed: a separate portal_service database with unqualified tables; these tables are keyed by tenant_id (row-level tenancy, one set for all tenants), so they live in one database-wide schema, portal
-- seed: tenant_id UUID NOT NULL with no FK ("links to main app tenants"); every tenant_id here references shared.tenants(tenant_id)
-- Rows in tenant schemas (lic_schema.policyholders, ...) are referenced by plain UUIDs without FK: a database-wide table cannot reference one tenant's schema.
-- seed §6 has no views, sample rows or default passwords; none are created here.
-- Sensitive columns kept as the seed names them (encrypted by a later change): portal_users.password_hash, portal_customers.aadhaar_number, portal_customers.pan_number.

CREATE SCHEMA IF NOT EXISTS portal;

-- seed: no trigger function; added so updated_at columns stay current on UPDATE, as in the tenant blueprint (search_path pinned, as for every function)
CREATE FUNCTION portal.set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- Portal users (agents and admins)
CREATE TABLE portal.portal_users (
    user_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id), -- Links to main app tenants
    email VARCHAR(255) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    role VARCHAR(50) NOT NULL, -- 'super_admin', 'insurance_provider_admin', 'regional_manager', 'senior_agent', 'junior_agent'
    -- seed: agent_code VARCHAR(50) UNIQUE across all tenants; agent codes are issued by each insurer and may repeat across tenants, so unique per tenant (constraint below)
    agent_code VARCHAR(50),
    phone VARCHAR(20),
    is_active BOOLEAN DEFAULT true,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    CONSTRAINT portal_users_tenant_agent_code_key UNIQUE (tenant_id, agent_code)
);

CREATE TRIGGER trg_portal_users_set_updated_at
    BEFORE UPDATE ON portal.portal_users
    FOR EACH ROW EXECUTE FUNCTION portal.set_updated_at();

-- Agent hierarchy and relationships
CREATE TABLE portal.agent_hierarchy (
    hierarchy_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    agent_id UUID REFERENCES portal.portal_users(user_id),
    manager_id UUID REFERENCES portal.portal_users(user_id),
    hierarchy_level INTEGER NOT NULL, -- 1 = junior, 2 = senior, 3 = manager, etc.
    region VARCHAR(100),
    territory VARCHAR(100),
    created_at TIMESTAMP DEFAULT NOW()
);

-- Data import operations
CREATE TABLE portal.import_jobs (
    import_job_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    agent_id UUID REFERENCES portal.portal_users(user_id),
    file_name VARCHAR(500) NOT NULL,
    file_path VARCHAR(1000),
    import_type VARCHAR(50) NOT NULL, -- 'excel', 'lic_api', 'bulk_update'
    total_records INTEGER DEFAULT 0,
    processed_records INTEGER DEFAULT 0,
    successful_records INTEGER DEFAULT 0,
    failed_records INTEGER DEFAULT 0,
    status VARCHAR(50) DEFAULT 'pending', -- 'pending', 'processing', 'completed', 'failed'
    error_message TEXT,
    created_at TIMESTAMP DEFAULT NOW(),
    started_at TIMESTAMP,
    completed_at TIMESTAMP
);

-- Individual import records for tracking
CREATE TABLE portal.import_records (
    import_record_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    import_job_id UUID REFERENCES portal.import_jobs(import_job_id),
    row_number INTEGER NOT NULL,
    data JSONB NOT NULL, -- Raw imported data
    processed_data JSONB, -- Processed/cleaned data
    status VARCHAR(50) DEFAULT 'pending', -- 'pending', 'success', 'failed', 'skipped'
    error_message TEXT,
    customer_id UUID, -- Link to created/updated customer
    policy_id UUID, -- Link to created/updated policy
    processed_at TIMESTAMP DEFAULT NOW()
);

-- Excel template configurations
CREATE TABLE portal.excel_templates (
    template_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    template_name VARCHAR(200) NOT NULL,
    description TEXT,
    column_mapping JSONB NOT NULL, -- Maps Excel columns to database fields
    required_columns TEXT[] DEFAULT '{}', -- Array of required column names
    optional_columns TEXT[] DEFAULT '{}', -- Array of optional column names
    validation_rules JSONB DEFAULT '{}', -- Custom validation rules
    is_active BOOLEAN DEFAULT true,
    created_by UUID REFERENCES portal.portal_users(user_id),
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

CREATE TRIGGER trg_excel_templates_set_updated_at
    BEFORE UPDATE ON portal.excel_templates
    FOR EACH ROW EXECUTE FUNCTION portal.set_updated_at();

-- LIC API synchronization jobs
CREATE TABLE portal.lic_sync_jobs (
    sync_job_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    agent_id UUID REFERENCES portal.portal_users(user_id),
    sync_type VARCHAR(100) NOT NULL, -- 'policies', 'customers', 'claims', 'full_sync'
    external_reference_id VARCHAR(200), -- LIC reference ID
    records_processed INTEGER DEFAULT 0,
    records_updated INTEGER DEFAULT 0,
    records_created INTEGER DEFAULT 0,
    records_failed INTEGER DEFAULT 0,
    status VARCHAR(50) DEFAULT 'pending', -- 'pending', 'running', 'completed', 'failed'
    error_message TEXT,
    api_response JSONB, -- Store API response for debugging
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW()
);

-- Portal activity audit log
CREATE TABLE portal.portal_audit_log (
    audit_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    user_id UUID REFERENCES portal.portal_users(user_id),
    action VARCHAR(100) NOT NULL, -- 'login', 'import_data', 'update_customer', 'view_report', etc.
    resource_type VARCHAR(100), -- 'customer', 'policy', 'import_job', 'report', etc.
    resource_id UUID, -- ID of the affected resource
    old_values JSONB, -- Previous state (for updates)
    new_values JSONB, -- New state (for updates/creates)
    ip_address INET,
    user_agent TEXT,
    created_at TIMESTAMP DEFAULT NOW()
);

-- Customer data management (portal view)
CREATE TABLE portal.portal_customers (
    customer_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    external_customer_id UUID, -- Link to main app customer (tenant schema, no FK)
    agent_id UUID REFERENCES portal.portal_users(user_id),
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    phone VARCHAR(20),
    email VARCHAR(255),
    date_of_birth DATE,
    address_line1 VARCHAR(255),
    address_line2 VARCHAR(255),
    city VARCHAR(100),
    state VARCHAR(100),
    pincode VARCHAR(10),
    aadhaar_number VARCHAR(12),
    pan_number VARCHAR(10),
    status VARCHAR(50) DEFAULT 'active', -- 'active', 'inactive', 'suspended'
    risk_profile VARCHAR(50), -- 'low', 'medium', 'high'
    customer_value VARCHAR(20) DEFAULT 'bronze', -- 'bronze', 'silver', 'gold', 'platinum'
    tags TEXT[] DEFAULT '{}', -- Array of tags for segmentation
    last_contacted_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    created_by UUID REFERENCES portal.portal_users(user_id),
    updated_by UUID REFERENCES portal.portal_users(user_id)
);

CREATE TRIGGER trg_portal_customers_set_updated_at
    BEFORE UPDATE ON portal.portal_customers
    FOR EACH ROW EXECUTE FUNCTION portal.set_updated_at();

-- Policy data management (portal view)
CREATE TABLE portal.portal_policies (
    policy_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    customer_id UUID REFERENCES portal.portal_customers(customer_id),
    external_policy_id UUID, -- Link to main app policy (tenant schema, no FK)
    agent_id UUID REFERENCES portal.portal_users(user_id),
    -- seed: policy_number VARCHAR(100) UNIQUE NOT NULL across all tenants; policy numbers are issued by each insurer and may repeat across tenants, so unique per tenant (constraint below)
    policy_number VARCHAR(100) NOT NULL,
    policy_type VARCHAR(100) NOT NULL, -- 'life', 'health', 'general', 'term', etc.
    product_name VARCHAR(200),
    sum_assured DECIMAL(15,2),
    premium_amount DECIMAL(10,2),
    premium_frequency VARCHAR(20) DEFAULT 'Monthly', -- 'Monthly', 'Quarterly', 'Half-Yearly', 'Yearly'
    issue_date DATE,
    maturity_date DATE,
    status VARCHAR(50) DEFAULT 'active', -- 'active', 'lapsed', 'surrendered', 'matured', 'claimed'
    payment_status VARCHAR(50) DEFAULT 'regular', -- 'regular', 'overdue', 'lapsed'
    last_premium_date DATE,
    next_premium_date DATE,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    CONSTRAINT portal_policies_tenant_policy_number_key UNIQUE (tenant_id, policy_number)
);

CREATE TRIGGER trg_portal_policies_set_updated_at
    BEFORE UPDATE ON portal.portal_policies
    FOR EACH ROW EXECUTE FUNCTION portal.set_updated_at();

-- Reporting and analytics data
CREATE TABLE portal.portal_reports (
    report_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    report_type VARCHAR(100) NOT NULL, -- 'customer_summary', 'policy_performance', 'agent_productivity', etc.
    report_name VARCHAR(200) NOT NULL,
    parameters JSONB DEFAULT '{}', -- Report parameters
    generated_by UUID REFERENCES portal.portal_users(user_id),
    generated_at TIMESTAMP DEFAULT NOW(),
    file_path VARCHAR(1000), -- Path to generated report file
    file_size INTEGER, -- Size in bytes
    download_count INTEGER DEFAULT 0,
    expires_at TIMESTAMP -- Report expiration date
);

-- Dashboard preferences per user
CREATE TABLE portal.dashboard_preferences (
    preference_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID REFERENCES portal.portal_users(user_id) UNIQUE,
    layout_config JSONB DEFAULT '{}', -- Dashboard widget layout
    visible_widgets TEXT[] DEFAULT '{}', -- Array of visible widget IDs
    chart_preferences JSONB DEFAULT '{}', -- Chart display preferences
    refresh_interval INTEGER DEFAULT 300, -- Auto-refresh interval in seconds
    theme VARCHAR(20) DEFAULT 'light', -- 'light', 'dark', 'auto'
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

CREATE TRIGGER trg_dashboard_preferences_set_updated_at
    BEFORE UPDATE ON portal.dashboard_preferences
    FOR EACH ROW EXECUTE FUNCTION portal.set_updated_at();

-- Indexes for performance
CREATE INDEX idx_portal_users_tenant_role ON portal.portal_users(tenant_id, role);
CREATE INDEX idx_portal_users_agent_code ON portal.portal_users(agent_code);
CREATE INDEX idx_import_jobs_tenant_agent ON portal.import_jobs(tenant_id, agent_id);
CREATE INDEX idx_import_jobs_status ON portal.import_jobs(status);
CREATE INDEX idx_import_records_job_id ON portal.import_records(import_job_id);
CREATE INDEX idx_lic_sync_jobs_tenant_agent ON portal.lic_sync_jobs(tenant_id, agent_id);
CREATE INDEX idx_lic_sync_jobs_status ON portal.lic_sync_jobs(status);
CREATE INDEX idx_portal_audit_log_tenant_user ON portal.portal_audit_log(tenant_id, user_id);
CREATE INDEX idx_portal_audit_log_action ON portal.portal_audit_log(action);
CREATE INDEX idx_portal_customers_tenant_agent ON portal.portal_customers(tenant_id, agent_id);
CREATE INDEX idx_portal_customers_phone ON portal.portal_customers(phone);
CREATE INDEX idx_portal_customers_email ON portal.portal_customers(email);
CREATE INDEX idx_portal_policies_customer ON portal.portal_policies(customer_id);
CREATE INDEX idx_portal_policies_agent ON portal.portal_policies(agent_id);
CREATE INDEX idx_portal_policies_policy_number ON portal.portal_policies(policy_number);
CREATE INDEX idx_portal_policies_status ON portal.portal_policies(status);

-- Row Level Security (RLS) policies.
-- They apply to roles that neither own the tables nor have BYPASSRLS; the application sets app.current_tenant_id,
-- app.current_user_id and app.user_role (e.g. SET LOCAL) per transaction.
-- seed: current_setting('app.…') without missing_ok, which raises an error while the setting is absent; here an absent or empty setting reads as NULL and matches no row
ALTER TABLE portal.portal_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.portal_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.import_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.lic_sync_jobs ENABLE ROW LEVEL SECURITY;

-- RLS policy for portal_users (users can only see their own tenant)
CREATE POLICY portal_users_tenant_isolation ON portal.portal_users
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID);

-- RLS policy for portal_customers (users can only see customers in their tenant)
CREATE POLICY portal_customers_tenant_isolation ON portal.portal_customers
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID);

-- Additional RLS policies for agent-specific access
-- seed: a permissive policy, which PostgreSQL ORs with tenant isolation (so an 'admin' saw every tenant's rows); RESTRICTIVE so it narrows the tenant's rows instead
CREATE POLICY portal_customers_agent_access ON portal.portal_customers
    AS RESTRICTIVE
    FOR ALL USING (agent_id = NULLIF(current_setting('app.current_user_id', true), '')::UUID OR
                   current_setting('app.user_role', true) IN ('admin', 'manager'));

-- RLS policy for portal_policies
CREATE POLICY portal_policies_tenant_isolation ON portal.portal_policies
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID);

-- seed: a permissive policy, which PostgreSQL ORs with tenant isolation (so an 'admin' saw every tenant's rows); RESTRICTIVE so it narrows the tenant's rows instead
CREATE POLICY portal_policies_agent_access ON portal.portal_policies
    AS RESTRICTIVE
    FOR ALL USING (agent_id = NULLIF(current_setting('app.current_user_id', true), '')::UUID OR
                   current_setting('app.user_role', true) IN ('admin', 'manager'));

-- seed: RLS enabled on import_jobs with no policy, which denies every row to the application; tenant isolation added
CREATE POLICY import_jobs_tenant_isolation ON portal.import_jobs
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID);

-- seed: RLS enabled on lic_sync_jobs with no policy, which denies every row to the application; tenant isolation added
CREATE POLICY lic_sync_jobs_tenant_isolation ON portal.lic_sync_jobs
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID);
