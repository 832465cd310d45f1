-- The DDL that makes one tenant's declared partitioned tables insertable now:
-- a DEFAULT partition where missing, and one partition per period from the
-- current one through `premake` periods ahead where missing. Decided in one
-- query for all of the schema's tables; the caller runs the returned
-- statements as one batch. Partitions are named <table>_pYYYY_MM (month) or
-- <table>_pYYYY_MM_DD (week, day: the period's first day).
-- $1 schema, $2 tables, $3 units ('month' | 'week' | 'day'), $4 premake.
WITH spec AS (
    SELECT s.tbl, s.unit, s.premake, to_regclass(format('%I.%I', $1::text, s.tbl)) AS parent
    FROM unnest($2::text[], $3::text[], $4::int[]) AS s(tbl, unit, premake)
), periods AS (
    SELECT spec.*, lo, lo + ('1 ' || spec.unit)::interval AS hi,
           spec.tbl || '_p' || to_char(lo, CASE spec.unit WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY_MM_DD' END) AS name
    FROM spec,
         generate_series(date_trunc(spec.unit, localtimestamp),
                         date_trunc(spec.unit, localtimestamp) + (spec.premake || ' ' || spec.unit)::interval,
                         ('1 ' || spec.unit)::interval) AS lo
    WHERE spec.parent IS NOT NULL
)
SELECT format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', $1::text, spec.tbl || '_default', spec.parent) AS ddl
FROM spec
JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = spec.parent
WHERE pt.partdefid = 0
UNION ALL
SELECT format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', $1::text, p.name, p.parent, p.lo, p.hi)
FROM periods p
WHERE to_regclass(format('%I.%I', $1::text, p.name)) IS NULL
