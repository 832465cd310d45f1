-- Moves one tenant's registry entry from one status to another. $1 code, $2 from, $3 to.
UPDATE shared.tenants SET status = $3, updated_at = now() WHERE tenant_code = $1 AND status = $2
