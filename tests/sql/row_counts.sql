-- Every table's row count, one text per table (partitions counted each on
-- their own, parents not at all), so two databases can be compared row for
-- row. Run as a superuser: row-level security does not hide rows from one.
SELECT n.nspname || '.' || c.relname || ' ' ||
       (xpath('/row/c/text()',
              query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY 1
