-- The blueprints the registry's tenants use, as 'a,b,...' (NULL when none),
-- or no row before the registry exists. Read-only, like shared_history.sql.
SELECT (xpath('/row/names/text()',
              query_to_xml('SELECT string_agg(DISTINCT blueprint, '','' ORDER BY blueprint) AS names FROM shared.tenants',
                           false, true, '')))[1]::text AS names
WHERE to_regclass('shared.tenants') IS NOT NULL
