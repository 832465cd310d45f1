-- Forgets a tenant: its configuration rows first (they reference it without
-- ON DELETE CASCADE), then the registry row. Returns the rows removed.
WITH config AS (
    DELETE FROM shared.tenant_config WHERE tenant_id = (SELECT tenant_id FROM shared.tenants WHERE tenant_code = $1)
)
DELETE FROM shared.tenants WHERE tenant_code = $1
