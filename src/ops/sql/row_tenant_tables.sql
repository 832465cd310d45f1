-- Row tenancy: the tables of one pack that hold a tenant's rows, parents before children, with the columns a COPY
-- restores (generated columns are computed again), and the statements that move its sequences past the restored
-- keys (never back: other tenants draw from the same sequences). $1 schema, $2 tenant table, $3 tenant column, $4 kept tables.
-- The tenant table comes first; each other table with the tenant column follows the tables it references (its
-- depth is the longest chain of foreign keys above it among these tables; references back to the tenant table and
-- self-references do not count, so a manager_id on the tenant table cannot make a cycle).
WITH RECURSIVE tables AS (
    SELECT c.oid, c.relname::text AS name
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND (c.relname = $2 OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                                     WHERE a.attrelid = c.oid AND a.attname = $3 AND a.attnum > 0
                                       AND NOT a.attisdropped))
),
edges AS (
    SELECT DISTINCT k.conrelid AS child, k.confrelid AS parent
    FROM pg_catalog.pg_constraint k
    JOIN tables ch ON ch.oid = k.conrelid
    JOIN tables pa ON pa.oid = k.confrelid
    WHERE k.contype = 'f' AND k.conrelid <> k.confrelid AND ch.name <> $2
),
depth (oid, level) AS (
    SELECT oid, 0 FROM tables
    UNION ALL
    SELECT e.child, d.level + 1 FROM depth d JOIN edges e ON e.parent = d.oid WHERE d.level < 64
)
SELECT t.name,
       t.name = $2 AS tenant_table,
       t.name = ANY ($4::text[]) AS kept,
       max(d.level) AS level,
       (SELECT string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
       (SELECT string_agg(format('SELECT pg_catalog.setval(%1$L, m) FROM (SELECT GREATEST(max(%2$I), pg_catalog.pg_sequence_last_value(%1$L::regclass)) AS m FROM %3$I.%4$I) x WHERE m IS NOT NULL;',
                                 s.seq, s.attname, $1, t.name), E'\n')
        FROM (SELECT pg_catalog.pg_get_serial_sequence(format('%I.%I', $1, t.name), a.attname) AS seq, a.attname
              FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped) s
        WHERE s.seq IS NOT NULL) AS sequences
FROM tables t JOIN depth d ON d.oid = t.oid
GROUP BY t.oid, t.name
ORDER BY t.name <> $2, max(d.level), t.name
