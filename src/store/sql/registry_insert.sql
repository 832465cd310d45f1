-- Registers a tenant (seed 001 §2.1 columns); the caller holds its lock.
INSERT INTO shared.tenants (tenant_id, tenant_code, tenant_name, tenant_type, schema_name, blueprint)
VALUES ($1, $2, $3, $4, $5, $6)
