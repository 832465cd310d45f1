-- The query that tells whether any value of one encrypted table of the
-- tenant names a key id ($1 of the returned query): the envelope
-- `enc1:<12 hex key id>:…` carries it at characters 6–17. No row when the
-- table does not exist (a tenant behind its blueprint).
-- $1 schema name, $2 table, $3 its encrypted columns.
SELECT format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE %s)', $1::text, $2::text,
              string_agg(format('substr(%I::text, 6, 12) = $1::text', c), ' OR '))
FROM unnest($3::text[]) AS c
WHERE to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL
HAVING count(*) > 0
