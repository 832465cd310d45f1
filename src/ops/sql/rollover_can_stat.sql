-- Whether the session's role may call pg_stat_file, which the rollover plan
-- uses to see that a DEFAULT partition's file is empty without locking it.
-- PostgreSQL checks EXECUTE when it starts a query, even for a CASE branch
-- never taken, so the plan's text must not name the function otherwise.
SELECT pg_catalog.has_function_privilege('pg_catalog.pg_stat_file(text, boolean)', 'EXECUTE') AS allowed
