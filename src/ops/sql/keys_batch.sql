-- One batch of `keys rotate` on one table, in one statement: the next $2
-- rows after the cursor $1 in the order of the declared key column (keyset
-- pagination: a range of its unique index, never an OFFSET and never a scan
-- of the whole table), and of those rows each value that still carries the
-- old key id $3 decrypted with the old key $4 and encrypted with the new key
-- $5 on the server. Values already under the new key are left as they are,
-- so a resumed run skips what a killed one did. Returns the new cursor
-- (NULL: the table is done), rows rewritten and values re-encrypted.
-- {table}, {key}: quoted; {key_type}: the key column's type; {stale_count}:
-- `coalesce(substr(t.<c>, 6, 12) = $3, false)::int` added up (the key id,
-- as in keys_census.sql);
-- {sets}: one `<c> = CASE … END` per column.
WITH batch AS MATERIALIZED (
    SELECT t.{key} AS k, {stale_count} AS stale
    FROM {table} AS t
    WHERE $1::text IS NULL OR t.{key} > CAST($1::text AS {key_type})
    ORDER BY t.{key}
    LIMIT $2
), rotated AS (
    UPDATE {table} AS t SET {sets}
    FROM batch
    WHERE t.{key} = batch.k AND batch.stale > 0
      -- The range again, so a merge join reads only this range of the index.
      AND ($1::text IS NULL OR t.{key} > CAST($1::text AS {key_type}))
    RETURNING 1
)
SELECT (SELECT b.k::text FROM batch AS b ORDER BY b.k DESC LIMIT 1) AS cursor,
       (SELECT count(*) FROM rotated)::bigint AS row_count,
       (SELECT coalesce(sum(b.stale), 0) FROM batch AS b)::bigint AS value_count
