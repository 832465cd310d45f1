-- How many values of one table's encrypted columns carry each key id: what
-- `keys rotate` checks before it starts (a key no value carries, a third
-- key) and proves before it retires the old key. {table}: the quoted
-- table; {key_ids}: one `('<column>', shared.envelope_key_id(t.<column>))`
-- per column. One scan of the table, decrypting nothing.
SELECT v.column_name, v.key_id, count(*)::bigint AS value_count
FROM {table} AS t CROSS JOIN LATERAL (VALUES {key_ids}) AS v(column_name, key_id)
WHERE v.key_id IS NOT NULL
GROUP BY v.column_name, v.key_id
ORDER BY v.column_name, v.key_id
