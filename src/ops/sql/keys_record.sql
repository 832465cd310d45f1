-- Records a finished rotation of tenant $1 from key id $2 to $3 (after
-- keys_retire.sql, in the same transaction): the old key as retired when it
-- was never recorded (values encrypted outside provision), and the new one
-- as the tenant's current key. Rows already there are kept as they are.
INSERT INTO shared.tenant_keys (tenant_code, key_id, retired_at)
VALUES ($1::text, $2::text, now()), ($1::text, $3::text, NULL)
ON CONFLICT DO NOTHING
