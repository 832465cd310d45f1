-- One tenant's registry status on one server (no row: not registered there).
SELECT status::text FROM shared.tenants WHERE tenant_code = $1
