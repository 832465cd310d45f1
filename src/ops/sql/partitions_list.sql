-- `partitions list`: per tenant and partitioned table, the range its
-- partitions cover, the periods missing inside it, the rows sitting in the
-- DEFAULT partition (counted exactly, through query_to_xml, in this one
-- query) and when the next rollover is due: the moment the partitions ahead
-- of now drop below `premake` periods.
-- $1 codes, $2 schemas, $3 tables, $4 units, $5 premake.
WITH spec AS (
    SELECT s.*, to_regclass(format('%I.%I', s.sch, s.tbl)) AS parent
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) WITH ORDINALITY AS s(code, sch, tbl, unit, premake, ord)
), resolved AS (
    SELECT spec.*, pt.partdefid, ('1 ' || spec.unit)::interval AS step
    FROM spec JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = spec.parent
), bounds AS (
    SELECT r.ord, b[1]::timestamp AS lo, b[2]::timestamp AS hi
    FROM resolved r
    JOIN pg_catalog.pg_inherits i ON i.inhparent = r.parent
    JOIN pg_catalog.pg_class pc ON pc.oid = i.inhrelid
    CROSS JOIN LATERAL regexp_match(pg_catalog.pg_get_expr(pc.relpartbound, 0),
                                    'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)') AS b
    WHERE i.inhrelid <> r.partdefid
), covered AS (
    SELECT r.ord, min(b.lo) AS lo, max(b.hi) AS hi FROM resolved r LEFT JOIN bounds b ON b.ord = r.ord GROUP BY r.ord
)
SELECT r.code, format('%I.%I', r.sch, r.tbl) AS "table", c.lo::text AS covered_from, c.hi::text AS covered_to,
       coalesce((SELECT array_agg(g::date::text ORDER BY g)
                 FROM generate_series(c.lo, c.hi - r.step, r.step) AS g
                 WHERE NOT EXISTS (SELECT 1 FROM bounds b WHERE b.ord = r.ord AND b.lo < g.g + r.step AND b.hi > g.g)),
                ARRAY[]::text[]) AS gaps,
       CASE WHEN r.partdefid <> 0 THEN
           (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', r.partdefid::regclass), false, true, '')))[1]::text::bigint
       END AS default_rows,
       (c.hi - r.premake * r.step)::text AS next_rollover
FROM resolved r JOIN covered c ON c.ord = r.ord
ORDER BY r.code, r.sch, r.tbl
