-- How many objects a schema holds: relations (tables, partitions, indexes,
-- sequences, views), user-defined types, functions, triggers and policies.
-- Used for "objects created" in summaries, so it counts what a DBA would.
SELECT (SELECT count(*) FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid)
     + (SELECT count(*) FROM pg_catalog.pg_type t
        WHERE t.typnamespace = n.oid
          AND (t.typtype IN ('e', 'd', 'r', 'm')
               OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')))
     + (SELECT count(*) FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid)
     + (SELECT count(*) FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid WHERE c.relnamespace = n.oid AND NOT g.tgisinternal)
     + (SELECT count(*) FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = n.oid)
     AS objects
FROM pg_catalog.pg_namespace n
WHERE n.nspname = $1
