-- Records, in the transaction that registers a tenant whose build takes
-- several transactions, that its administrator is still to be created; the
-- transaction that creates it deletes this row (administrator_done.sql). So
-- `admin@<code>.example` is created exactly once, whatever crashes, and an
-- administrator an operator later deleted is never brought back.
-- $1 tenant_id, $2 the administrator's e-mail.
INSERT INTO shared.tenant_config (tenant_id, config_key, config_value, config_type)
VALUES ($1, 'provision.administrator_pending', pg_catalog.to_jsonb($2::text), 'string')
ON CONFLICT (tenant_id, config_key) DO NOTHING
