-- The DDL that makes one tenant's partitioned tables insertable now: a
-- DEFAULT partition where missing, and one partition per period from the
-- current one through `premake` periods ahead where missing. One query for
-- all of the tenant's tables; each row names the parent's owner, who must
-- create the partition (so ownership and default privileges follow it).
-- Partitions are named <table>_pYYYY_MM (month) or <table>_pYYYY_MM_DD
-- (week, day: the period's first day).
-- $1 the tenant schema; $2 schemas ('' = the tenant schema); $3 tables;
-- $4 units ('month' | 'week' | 'day'); $5 premake.
WITH spec AS (
    SELECT s.tbl, s.unit, s.premake, coalesce(nullif(s.sch, ''), $1::text) AS sch,
           to_regclass(format('%I.%I', coalesce(nullif(s.sch, ''), $1::text), s.tbl)) AS parent
    FROM unnest($2::text[], $3::text[], $4::text[], $5::int[]) AS s(sch, tbl, unit, premake)
), periods AS (
    SELECT spec.*, lo, lo + ('1 ' || spec.unit)::interval AS hi,
           spec.tbl || '_p' || to_char(lo, CASE spec.unit WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY_MM_DD' END) AS name
    FROM spec,
         generate_series(date_trunc(spec.unit, localtimestamp),
                         date_trunc(spec.unit, localtimestamp) + (spec.premake || ' ' || spec.unit)::interval,
                         ('1 ' || spec.unit)::interval) AS lo
    WHERE spec.parent IS NOT NULL
)
SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', spec.sch, spec.tbl || '_default', spec.parent) AS ddl,
       format('%I.%I', spec.sch, spec.tbl || '_default') AS target
FROM spec
JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = spec.parent
JOIN pg_catalog.pg_class c ON c.oid = spec.parent
WHERE pt.partdefid = 0
UNION ALL
SELECT pg_catalog.pg_get_userbyid(c.relowner),
       format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', p.sch, p.name, p.parent, p.lo, p.hi),
       format('%I.%I', p.sch, p.name)
FROM periods p
JOIN pg_catalog.pg_class c ON c.oid = p.parent
WHERE to_regclass(format('%I.%I', p.sch, p.name)) IS NULL
