-- How many values of one table's encrypted columns carry each key id: what
-- `keys rotate` checks before it starts (a key no value carries, a third
-- key) and proves before it retires the old key. One scan of the table,
-- decrypting nothing. {table}: the quoted table; {columns}: the column
-- names as literals, {key_ids}: `substr(t.<column>, 6, 12)` for each, in
-- the same order. Every value of a shared.ciphertext column is an envelope
-- (the domain's CHECK), so characters 6-17 are its key id: substr is what
-- shared.envelope_key_id returns for such a value, without its regular
-- expression (5x faster on a census of 1M values).
SELECT v.column_name, v.key_id, count(*)::bigint AS value_count
FROM {table} AS t CROSS JOIN LATERAL unnest(ARRAY[{columns}]::text[], ARRAY[{key_ids}]::text[]) AS v(column_name, key_id)
WHERE v.key_id IS NOT NULL
GROUP BY v.column_name, v.key_id
ORDER BY v.column_name, v.key_id
