-- The indexes of table acme_schema.$1 whose key columns are exactly $2
-- (comma-separated, in order), as `name:unique` or `name:plain`, space-separated.
SELECT coalesce(string_agg(c.relname || ':' || CASE WHEN i.indisunique THEN 'unique' ELSE 'plain' END, ' '
                           ORDER BY c.relname), '')
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = to_regclass('acme_schema.' || $1::text)
  AND (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
       FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) = $2::text
