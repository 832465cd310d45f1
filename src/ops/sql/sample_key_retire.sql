-- Retires the tenant's current key, if any, so the sample key can be the
-- current one (at most one per tenant); undone by sample_key_reinstate.sql
-- when the sample encrypted nothing.
-- $1 tenant code. Returns the retired key's id.
UPDATE shared.tenant_keys SET retired_at = now()
WHERE tenant_code = $1::text AND retired_at IS NULL
RETURNING key_id
