-- Seed 001 §2.1 "Tenant Management": master tenant registry and per-tenant configuration.

-- Master tenant registry
CREATE TABLE shared.tenants (
    tenant_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- seed: VARCHAR(20); codes may be up to 56 bytes so that the schema name <code>_schema fits PostgreSQL's 63-byte identifier limit
    tenant_code VARCHAR(56) UNIQUE NOT NULL,
    tenant_name VARCHAR(255) NOT NULL,
    tenant_type VARCHAR(50) NOT NULL, -- 'insurance_provider', 'independent_agent', 'agent_network'
    -- seed: VARCHAR(100); PostgreSQL identifiers are at most 63 bytes, so a longer schema name could never exist
    schema_name VARCHAR(63) UNIQUE,
    parent_tenant_id UUID REFERENCES shared.tenants(tenant_id),
    status VARCHAR(20) DEFAULT 'active',
    subscription_plan VARCHAR(50),
    trial_end_date TIMESTAMP,
    max_users INTEGER DEFAULT 1000,
    storage_limit_gb INTEGER DEFAULT 10,
    api_rate_limit INTEGER DEFAULT 1000,
    -- seed: no blueprint column; added so each tenant records which tenant blueprint (templates/<blueprint>/) built its schema
    blueprint VARCHAR(63) NOT NULL DEFAULT 'agent_mitra',
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    -- seed: no CHECK on status; added to restrict it to the lifecycle states the tooling understands
    CONSTRAINT tenants_status_check CHECK (status IN ('active', 'inactive', 'suspended')),
    -- seed: no CHECK on tenant_code; added because the code is embedded in the schema name and must be a plain lower-case identifier
    CONSTRAINT tenants_tenant_code_check CHECK (tenant_code ~ '^[a-z][a-z0-9_]*$')
);

-- Tenant configuration
CREATE TABLE shared.tenant_config (
    config_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID REFERENCES shared.tenants(tenant_id),
    config_key VARCHAR(100) NOT NULL,
    config_value JSONB,
    config_type VARCHAR(50) DEFAULT 'string', -- 'string', 'number', 'boolean', 'json'
    is_encrypted BOOLEAN DEFAULT false,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    UNIQUE (tenant_id, config_key)
);
