-- Records the session's sample key as the tenant's current key: its id
-- only, computed here from the setting, never the key.
-- $1 tenant code. Returns the key id.
INSERT INTO shared.tenant_keys (tenant_code, key_id)
VALUES ($1::text, shared.key_id(current_setting('provision.sample_key')))
RETURNING key_id
