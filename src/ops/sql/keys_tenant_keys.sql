-- The key versions recorded for tenant $1 (ids and lifetimes only).
SELECT key_id, retired_at IS NOT NULL AS retired
FROM shared.tenant_keys
WHERE tenant_code = $1::text
ORDER BY created_at, key_id
