-- seed 001 §5.2: backup_history.tenant_id REFERENCES shared.tenants; a backup
-- must outlive the tenant it saved (tenant remove backs up, then deletes the
-- registry row), so the history keeps the tenant's id and code without a
-- foreign key, and where the dump was written.
ALTER TABLE shared.backup_history DROP CONSTRAINT IF EXISTS backup_history_tenant_id_fkey;
ALTER TABLE shared.backup_history ADD COLUMN IF NOT EXISTS tenant_code VARCHAR(56);
ALTER TABLE shared.backup_history ADD COLUMN IF NOT EXISTS storage_location VARCHAR(500);
