-- `tenant remove --keep-data`: the schema stays, the tenant stops counting.
UPDATE shared.tenants SET status = 'inactive', updated_at = now() WHERE tenant_code = $1
