-- Keeps the backup history of a tenant that is being removed ($1: its id).
-- While shared.backup_history.tenant_id references shared.tenants (V5), the
-- history would block deleting the registry row; rather than delete a record
-- of backups (the way the tenant can come back), its rows stay, detached:
-- tenant_id becomes NULL. Where that reference is gone, nothing changes and
-- the rows keep the tenant's id. Returns the rows detached.
UPDATE shared.backup_history h
SET tenant_id = NULL
WHERE h.tenant_id = $1
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
              WHERE c.conrelid = 'shared.backup_history'::regclass
                AND c.contype = 'f'
                AND c.confrelid = 'shared.tenants'::regclass)
