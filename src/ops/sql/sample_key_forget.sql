-- The sample encrypted nothing (a rerun that inserted no rows): its key
-- leaves no trace.
-- $1 tenant code, $2 the sample key's id.
DELETE FROM shared.tenant_keys WHERE tenant_code = $1::text AND key_id = $2::text
