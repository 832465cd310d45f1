-- Row tenancy: one table's rows of tenant $1 (its code), for `tenant remove`. Identifiers quoted; for the tenant
-- table itself, {{ column }} is its key.
DELETE FROM {{ table }}
WHERE {{ column }} = (SELECT {{ key }} FROM {{ tenant_table }} WHERE {{ code_column }} = $1)
