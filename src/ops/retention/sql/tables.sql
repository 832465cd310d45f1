-- What `retention run` must know of each rule's table in one tenant schema,
-- from the catalog: whether it exists or is partitioned, its primary key
-- (batches walk it), the tables whose foreign keys reference it (children
-- delete first; with any, the server's own cascades and checks must run),
-- whether it has triggers of its own besides provision's audit trigger
-- (which replica mode would silence), and whether the connecting role may
-- use replica mode at all. `guards`: for each foreign key that references
-- the table without an ON DELETE action (NO ACTION, RESTRICT), a predicate
-- keeping the rows it still references (alias t: the table, c: the child):
-- a row another row still points at outlives its age until that row goes,
-- instead of failing the batch (retention periods are minimums).
-- key_type: the type of a one-column primary key (a batch resumes after the last key it changed), else NULL.
-- $1 schema name, $2 table names.
SELECT t.name,
       c.oid IS NOT NULL AS present,
       coalesce(c.relkind = 'p' OR c.relispartition, false) AS partitioned,
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.i)
                 FROM pg_catalog.pg_index x
                 CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(att, i)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.att
                 WHERE x.indrelid = c.oid AND x.indisprimary), '{}') AS key,
       (SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
        FROM pg_catalog.pg_index x
        JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
        WHERE x.indrelid = c.oid AND x.indisprimary AND x.indnkeyatts = 1) AS key_type,
       coalesce((SELECT array_agg(DISTINCT r.relname::text ORDER BY r.relname::text)
                 FROM pg_catalog.pg_constraint f
                 JOIN pg_catalog.pg_class r ON r.oid = f.conrelid
                 WHERE f.contype = 'f' AND f.confrelid = c.oid AND f.conparentid = 0), '{}') AS children,
       coalesce((SELECT array_agg(g.guard ORDER BY g.guard)
                 FROM (SELECT format('NOT EXISTS (SELECT 1 FROM %s c WHERE %s)', f.conrelid::regclass,
                                     string_agg(format('c.%I = t.%I', ca.attname, pa.attname), ' AND ' ORDER BY k.i))
                              AS guard
                       FROM pg_catalog.pg_constraint f
                       CROSS JOIN LATERAL unnest(f.conkey, f.confkey) WITH ORDINALITY AS k(col, pcol, i)
                       JOIN pg_catalog.pg_attribute ca ON ca.attrelid = f.conrelid AND ca.attnum = k.col
                       JOIN pg_catalog.pg_attribute pa ON pa.attrelid = f.confrelid AND pa.attnum = k.pcol
                       WHERE f.contype = 'f' AND f.confrelid = c.oid AND f.conparentid = 0
                         AND f.confdeltype IN ('a', 'r')
                       GROUP BY f.oid, f.conrelid) AS g), '{}') AS guards,
       EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
               WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND g.tgname <> 'audit_row_change') AS own_triggers,
       current_setting('is_superuser') = 'on' AS superuser
FROM unnest($2::text[]) WITH ORDINALITY AS t(name, ord)
LEFT JOIN pg_catalog.pg_class c
       ON c.relnamespace = to_regnamespace($1::text) AND c.relname = t.name AND c.relkind IN ('r', 'p')
ORDER BY t.ord
