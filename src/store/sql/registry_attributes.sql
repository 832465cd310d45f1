-- Records a new tenant's attributes other than `type` (which is the registry's
-- tenant_type), one row each as config_key 'attribute.<name>' holding a JSON
-- string; in the transaction that inserts the registry row. $1 tenant_id,
-- $2 names, $3 values.
INSERT INTO shared.tenant_config (tenant_id, config_key, config_value, config_type)
SELECT $1, 'attribute.' || a.name, to_jsonb(a.value), 'string'
FROM unnest($2::text[], $3::text[]) AS a(name, value)
