-- Until blueprint packs this file was provision's own migration V4 (its comments still use those numbers:
-- V3, V4, V6, V7, V8, V9 there are V1, V2, V3, V4, V5, V6 here). A database made then records it in
-- provision.refinery_schema_history with the checksum below; `provision up` re-records it in this blueprint's
-- shared history. The statements are unchanged, byte for byte.
-- provision:replaces-core-version 4 checksum 10694785227614131064

-- Seed 001 §2.1: data import/export and sync tracking for the agent configuration portal.
-- These shared tables point at rows inside tenant schemas; a shared table cannot carry an FK into
-- one tenant's schema, so they store tenant_id (FK to shared.tenants) plus the tenant-local id without FK.

-- Data import/export tracking for agent configuration portal
CREATE TABLE shared.data_imports (
    import_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- seed: no tenant_id; added so agent_id (which lives in a tenant schema) can be resolved to its tenant
    tenant_id UUID REFERENCES shared.tenants(tenant_id),
    -- seed: agent_id REFERENCES lic_schema.agents; a shared table cannot reference one tenant's schema, so tenant_id + agent_id are kept without FK
    agent_id UUID,
    file_name VARCHAR(255) NOT NULL,
    file_path VARCHAR(500),
    file_size_bytes BIGINT,
    import_type VARCHAR(50) DEFAULT 'customer_data', -- 'customer_data', 'policy_data', 'bulk_update'
    status VARCHAR(50) DEFAULT 'pending', -- 'pending', 'processing', 'completed', 'failed'
    total_records INTEGER DEFAULT 0,
    processed_records INTEGER DEFAULT 0,
    error_records INTEGER DEFAULT 0,
    error_details JSONB,
    processing_started_at TIMESTAMP,
    processing_completed_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

-- Import job queue for background processing
CREATE TABLE shared.import_jobs (
    job_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    import_id UUID REFERENCES shared.data_imports(import_id),
    job_type VARCHAR(50) NOT NULL, -- 'validate', 'process', 'cleanup'
    priority INTEGER DEFAULT 1, -- 1=low, 5=high
    status VARCHAR(50) DEFAULT 'queued', -- 'queued', 'processing', 'completed', 'failed'
    retry_count INTEGER DEFAULT 0,
    max_retries INTEGER DEFAULT 3,
    error_message TEXT,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW()
);

-- Customer data mapping for Excel imports
CREATE TABLE shared.customer_data_mapping (
    mapping_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    import_id UUID REFERENCES shared.data_imports(import_id),
    excel_row_number INTEGER NOT NULL,
    customer_name VARCHAR(255),
    phone_number VARCHAR(15),
    email VARCHAR(255),
    policy_number VARCHAR(100),
    date_of_birth DATE,
    address JSONB,
    raw_excel_data JSONB, -- Complete row data for reference
    mapping_status VARCHAR(50) DEFAULT 'pending', -- 'pending', 'mapped', 'error'
    validation_errors JSONB,
    created_customer_id UUID, -- References created customer record
    created_at TIMESTAMP DEFAULT NOW()
);

-- Data sync status tracking
CREATE TABLE shared.data_sync_status (
    sync_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- seed: no tenant_id; added so agent_id/customer_id (which live in a tenant schema) can be resolved to their tenant
    tenant_id UUID REFERENCES shared.tenants(tenant_id),
    -- seed: agent_id REFERENCES lic_schema.agents; a shared table cannot reference one tenant's schema, so tenant_id + agent_id are kept without FK
    agent_id UUID,
    -- seed: customer_id REFERENCES lic_schema.policyholders; same reason, kept as a plain UUID scoped by tenant_id
    customer_id UUID,
    last_sync_at TIMESTAMP DEFAULT NOW(),
    sync_status VARCHAR(50) DEFAULT 'pending', -- 'pending', 'in_progress', 'completed', 'failed'
    sync_type VARCHAR(50) DEFAULT 'initial', -- 'initial', 'update', 'manual'
    error_message TEXT,
    retry_count INTEGER DEFAULT 0,
    next_retry_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);
