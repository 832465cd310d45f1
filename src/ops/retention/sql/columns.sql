-- The columns anonymising rules change, from the catalog: a column set to
-- NULL must be nullable; a hashed one must be text or varchar (no domain,
-- whose checks would refuse a hash) wide enough for `anon:` and 32 hex
-- digits; neither may be part of a primary key, unique or foreign key
-- (replica mode skips the checks that would guard them).
-- $1 schema name, $2 table names, $3 column names (parallel).
SELECT t.tbl, t.col,
       a.attnum IS NOT NULL AS present,
       coalesce(a.attnotnull, false) AS not_null,
       coalesce(a.atttypid IN ('text'::regtype, 'varchar'::regtype), false) AS textual,
       CASE WHEN a.atttypid = 'varchar'::regtype AND a.atttypmod > 0 THEN a.atttypmod - 4 END AS max_length,
       coalesce(EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                        WHERE k.conrelid = a.attrelid AND k.contype IN ('p', 'u', 'f') AND a.attnum = ANY (k.conkey)),
                false) AS keyed
FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(tbl, col, ord)
LEFT JOIN pg_catalog.pg_attribute a
       ON a.attrelid = to_regclass(format('%I.%I', $1::text, t.tbl)) AND a.attname = t.col AND NOT a.attisdropped
ORDER BY t.ord
