-- What a tenant schema ($1) holds of the columns a blueprint declares
-- encrypted: for each (table, column) of $2/$3, whether the table and the
-- column exist, whether the column is a shared.ciphertext column, whether a
-- unique index covers exactly that column (the batching key), and its type
-- as SQL spells it (a batch's cursor is cast to it).
SELECT d.table_name,
       d.column_name,
       c.oid IS NOT NULL AS table_found,
       a.attnum IS NOT NULL AS column_found,
       coalesce(a.atttypid = 'shared.ciphertext'::regtype, false) AS is_ciphertext,
       EXISTS (SELECT 1 FROM pg_index i
               WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL
                 AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) AS is_unique,
       format_type(a.atttypid, a.atttypmod) AS type_name
FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS d(table_name, column_name, position)
LEFT JOIN pg_class c
       ON c.relnamespace = to_regnamespace($1::text) AND c.relname = d.table_name AND c.relkind IN ('r', 'p')
LEFT JOIN pg_attribute a
       ON a.attrelid = c.oid AND a.attname = d.column_name AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY d.position
