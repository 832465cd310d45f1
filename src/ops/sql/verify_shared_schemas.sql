-- The schemas the shared migrations made in verify's throwaway reference
-- database (it holds nothing else): the ones the shared check compares.
SELECT nspname::text FROM pg_catalog.pg_namespace
WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('information_schema', 'public')
ORDER BY 1
