-- How many objects a schema holds: relations (tables, partitions, indexes,
-- sequences, views), user-defined types, functions, triggers and policies.
-- Used for "objects created" in summaries, so it counts what a DBA would.
-- Every lookup goes through an index: members of the schema through
-- pg_depend (each has a dependency on its namespace), then their indexes,
-- triggers and policies by relation. (Filtering pg_class by relnamespace
-- scans the whole catalog: 13 ms at 100 tenants, and it grew with every
-- tenant; this takes 1.5 ms.) $1 the schema.
WITH n AS (
    SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1
), member AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d JOIN n ON d.refobjid = n.oid
    WHERE d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.deptype = 'n'
), rels AS (
    SELECT c.oid, c.relkind FROM member m JOIN pg_catalog.pg_class c ON c.oid = m.objid
    WHERE m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
)
SELECT (SELECT count(*) FROM rels)
     + (SELECT count(*) FROM rels r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid)
     + (SELECT count(*) FROM rels WHERE relkind = 'c')
     + (SELECT count(*) FROM member m JOIN pg_catalog.pg_type t ON t.oid = m.objid
        WHERE m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.typtype IN ('e', 'd', 'r', 'm'))
     + (SELECT count(*) FROM member m WHERE m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass)
     + (SELECT count(*) FROM rels r JOIN pg_catalog.pg_trigger g ON g.tgrelid = r.oid WHERE NOT g.tgisinternal)
     + (SELECT count(*) FROM rels r JOIN pg_catalog.pg_policy p ON p.polrelid = r.oid)
     AS objects
