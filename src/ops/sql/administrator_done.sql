-- Takes the tenant's pending administrator (administrator_pending.sql):
-- returns a row when the caller must create it now, in this transaction.
-- $1 tenant_id.
DELETE FROM shared.tenant_config
WHERE tenant_id = $1 AND config_key = 'provision.administrator_pending'
RETURNING config_key
