-- `tenant activate`: the tenant counts again for `up`, rollover and verify.
UPDATE shared.tenants SET status = 'active', updated_at = now() WHERE tenant_code = $1
