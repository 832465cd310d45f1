-- Seed 001 §5.2 "Automated Backup Strategy": backup configuration and execution history.
-- The seed's execute_tenant_backup() function is not created: it only writes bookkeeping rows (no dump is taken).

-- Backup configuration
CREATE TABLE shared.backup_config (
    config_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID REFERENCES shared.tenants(tenant_id),
    backup_type VARCHAR(50), -- 'full', 'incremental', 'differential'
    schedule VARCHAR(100), -- cron expression
    retention_days INTEGER DEFAULT 30,
    storage_location VARCHAR(500),
    encryption_enabled BOOLEAN DEFAULT true,
    last_backup_at TIMESTAMP,
    next_backup_at TIMESTAMP,
    status VARCHAR(50) DEFAULT 'active'
);

-- Backup execution tracking
CREATE TABLE shared.backup_history (
    backup_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID REFERENCES shared.tenants(tenant_id),
    config_id UUID REFERENCES shared.backup_config(config_id),
    backup_type VARCHAR(50),
    started_at TIMESTAMP DEFAULT NOW(),
    completed_at TIMESTAMP,
    size_bytes BIGINT,
    status VARCHAR(50), -- 'running', 'completed', 'failed'
    error_message TEXT,
    verification_status VARCHAR(50) -- 'pending', 'verified', 'failed'
);
