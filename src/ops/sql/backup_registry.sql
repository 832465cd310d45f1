-- The registry rows of one tenant ($1: its code) as INSERT statements for a
-- backup: the shared.tenants row, then its shared.tenant_config rows. Every
-- stored column is carried as JSON and decoded on restore by
-- jsonb_populate_record, so the restored rows equal the originals
-- (created_at included) while a column added by a later shared migration
-- simply takes its default.
WITH src AS (
    SELECT 1 AS ord, 'shared.tenants'::regclass AS tbl, to_jsonb(t) AS doc, '' AS sort_key
    FROM shared.tenants t
    WHERE t.tenant_code = $1
    UNION ALL
    SELECT 2, 'shared.tenant_config'::regclass, to_jsonb(c), c.config_key::text
    FROM shared.tenant_config c
    JOIN shared.tenants t ON t.tenant_id = c.tenant_id
    WHERE t.tenant_code = $1
)
SELECT format('INSERT INTO %s (%s)%sSELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L);',
              src.tbl, cols.list, E'\n', cols.list, src.tbl, src.doc::text)
FROM src
CROSS JOIN LATERAL (
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS list
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = src.tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
) AS cols
ORDER BY src.ord, src.sort_key
