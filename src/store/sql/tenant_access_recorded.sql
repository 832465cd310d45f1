-- What `tenant remove --keep-data` revoked, forgotten as it is restored.
DELETE FROM shared.tenant_config
WHERE tenant_id = $1 AND config_key = 'provision.suspended_schema_usage'
RETURNING config_value
