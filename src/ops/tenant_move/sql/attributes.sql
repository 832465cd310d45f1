-- The attributes recorded with a tenant (registry_attributes.sql writes them as attribute.<name>), so the target copy
-- is registered with the same ones. $1 tenant id.
SELECT substr(config_key, length('attribute.') + 1), config_value #>> '{}'
FROM shared.tenant_config
WHERE tenant_id = $1 AND config_key LIKE 'attribute.%'
