-- Row tenancy: locks one table's rows of tenant $1 until the removal commits, so that what its final backup reads is
-- exactly what is deleted (no concurrent update or delete of them; a new row pointing at the locked tenant row waits,
-- since its foreign key check takes FOR KEY SHARE). Returns how many rows. Identifiers quoted as in row_tenant_delete.
SELECT count(*) FROM (
    SELECT 1 FROM {{ table }}
    WHERE {{ column }} = (SELECT {{ key }} FROM {{ tenant_table }} WHERE {{ code_column }} = $1)
    FOR UPDATE
) AS locked
