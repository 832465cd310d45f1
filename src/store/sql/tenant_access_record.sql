-- Remembers what `tenant remove --keep-data` revoked ($2: JSON array of
-- {"schema", "role"}), next to the tenant's other configuration, so that
-- `tenant activate` restores exactly that. A second deactivation adds to it.
INSERT INTO shared.tenant_config (tenant_id, config_key, config_value, config_type)
VALUES ($1, 'provision.suspended_schema_usage', $2::jsonb, 'json')
ON CONFLICT (tenant_id, config_key) DO UPDATE
SET config_value = shared.tenant_config.config_value || EXCLUDED.config_value, updated_at = now()
