-- Every registered tenant with its applied blueprint versions, in one round
-- trip whatever the tenant count: each tenant's own history table is read
-- through query_to_xml instead of one query per tenant.
-- applied: 'version:checksum,...' or NULL when the history table does not exist.
-- row_tenant: a tenant of a row-tenancy pack (issue 14), which has no schema of its own.
SELECT t.tenant_code,
       t.tenant_id,
       t.tenant_name,
       t.tenant_type,
       t.schema_name,
       t.blueprint,
       t.status,
       n.oid IS NOT NULL AS schema_exists,
       t.schema_name IS NULL AS row_tenant,
       CASE WHEN h.oid IS NOT NULL THEN
         (xpath('/row/applied/text()',
                query_to_xml(format('SELECT string_agg(version || '':'' || checksum, '','' ORDER BY version) AS applied FROM %I.refinery_schema_history',
                                    t.schema_name), false, true, '')))[1]::text
       END AS applied
FROM shared.tenants t
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema_name
LEFT JOIN pg_catalog.pg_class h ON h.relnamespace = n.oid AND h.relname = 'refinery_schema_history' AND h.relkind = 'r'
WHERE $1::text IS NULL OR t.tenant_code = $1::text
ORDER BY t.tenant_code
