-- The tenant's UUID in app.tenant_id for this transaction: the setting
-- row-level security policies and the audit trigger read, so the sample is
-- written as the tenant's own data.
-- $1 tenant UUID as text.
SELECT set_config('app.tenant_id', $1::text, true)
