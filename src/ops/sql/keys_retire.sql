-- After the proof that no value of tenant $1 carries any key but the new
-- one ($2): every other current key of the tenant is retired.
UPDATE shared.tenant_keys
SET retired_at = now()
WHERE tenant_code = $1::text AND retired_at IS NULL AND key_id <> $2::text
