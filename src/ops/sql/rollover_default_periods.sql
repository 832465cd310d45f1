-- The DEFAULT partitions that hold rows, each with the query that lists the
-- periods of its rows (`partitions rollover` runs those, one per table, and
-- hands the periods to rollover_plan.sql as $11/$12). A row lands in the
-- DEFAULT when no partition covers its key: written before the window began,
-- or into a period retention already released. Without this, such rows were
-- never placed and never released, whatever their age.
-- Only DEFAULTs whose file is not empty are probed (read with pg_stat_file,
-- which locks nothing; plan.rs replaces the size test with `false` for a role
-- that may not call it, and then every DEFAULT is probed).
-- $1 schemas, $2 tables, $3 partition columns, $4 units: the plan's $2–$5,
-- so `ord` is the plan's ordinality.
SELECT s.ord,
       format('SELECT DISTINCT pg_catalog.date_trunc(%L, %I::timestamp)::text FROM ONLY %s WHERE %I IS NOT NULL',
              s.unit, s.col, pt.partdefid::regclass, s.col) AS probe
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS s(sch, tbl, col, unit, ord)
JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = pg_catalog.to_regclass(format('%I.%I', s.sch, s.tbl))
WHERE pt.partdefid <> 0
  AND NOT coalesce((pg_catalog.pg_stat_file(pg_catalog.pg_relation_filepath(pt.partdefid), true)).size = 0, false)
ORDER BY s.ord
