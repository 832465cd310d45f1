-- Whether the old key ($2) decrypts a few values of one column that name
-- its id ($1): decryption raises on a wrong key or damaged data; only a
-- count comes back, never a plaintext. {table}, {column}: quoted.
SELECT count(*)::bigint AS decrypted FROM (
    SELECT t.{column} AS value FROM {table} AS t WHERE shared.envelope_key_id(t.{column}) = $1::text LIMIT 3
) AS sample
WHERE shared.decrypt(sample.value, $2::text) IS NOT NULL
