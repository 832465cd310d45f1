-- The registered tenants' codes and whether each is active: what verify
-- needs before it takes their locks. (The full registry snapshot, which
-- reads every tenant's history, is read once, after the locks are held.)
SELECT tenant_code::text, status = 'active' AS active FROM shared.tenants ORDER BY tenant_code
