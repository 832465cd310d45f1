-- Prints the number of non-DEFAULT partitions of the benchmark's 200 parents
-- (200 after `provision up` with premake = 0: the current month; 800 once
-- the 600 of the benchmark exist).
\ir parents.sql
SELECT count(*)
FROM bench_parents p
JOIN pg_catalog.pg_inherits i ON i.inhparent = p.parent
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = p.parent
WHERE c.relkind = 'r' AND c.oid <> pt.partdefid;
