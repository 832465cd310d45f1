-- Makes the key sample_key_retire.sql retired current again.
-- $1 tenant code, $2 its id.
UPDATE shared.tenant_keys SET retired_at = NULL WHERE tenant_code = $1::text AND key_id = $2::text
