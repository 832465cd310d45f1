-- In bulk mode (bulk_mode.sql) foreign keys are not checked per row: this
-- builds, for every foreign key of the sample tables, one query counting
-- staged rows whose reference does not exist, as the per-row triggers would
-- have refused them. MATCH SIMPLE: a row with a NULL key column is not checked.
-- $1 the tables the sample fills (on search_path).
SELECT c.conname,
       format('SELECT count(*) FROM %I s WHERE %s AND NOT EXISTS (SELECT 1 FROM %s r WHERE %s)',
              'seed_' || rel.relname,
              string_agg(format('s.%I IS NOT NULL', a.attname), ' AND ' ORDER BY k.i),
              c.confrelid::regclass,
              string_agg(format('r.%I = s.%I', fa.attname, a.attname), ' AND ' ORDER BY k.i)) AS check_sql
FROM pg_constraint c
JOIN pg_class rel ON rel.oid = c.conrelid
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, fcol, i)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol
WHERE c.contype = 'f'
  AND c.conparentid = 0
  AND c.conrelid IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t)
GROUP BY c.oid, c.conname, rel.relname, c.confrelid
ORDER BY c.conname
