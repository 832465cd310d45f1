-- The tables and views of the tenant schema, for the sample templates'
-- `tables` variable (a sample can skip what an older tenant lacks).
-- $1 schema name.
SELECT c.relname::text
FROM pg_class c
WHERE c.relnamespace = to_regnamespace($1::text) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY c.relname
