-- The secondary indexes of the tenant schema that a bulk sample load may
-- drop and build again after its inserts (sample/indexes.rs), one row per
-- index with the statements that rebuild it exactly. Run with search_path =
-- pg_catalog, so every name in the statements is schema-qualified.
--
-- Deferrable: no constraint behind it (primary keys, unique and exclusion
-- constraints stay, and so does any unique index: a foreign key or ON
-- CONFLICT may lean on it), valid, not the CLUSTER or replica-identity
-- index, in the default tablespace, with no comment, security label,
-- per-column statistics target, extension membership or object depending on
-- it: pg_get_indexdef then says all there is to rebuild (reloptions
-- included; an index's owner is always its table's). A partitioned
-- table's index comes with the indexes of its partitions (one level: no
-- sub-partitioned partitions): those are rebuilt first under their own
-- names, then the parent's CREATE INDEX without ONLY attaches them (and
-- indexes any partition a sample created, as the plain path would have).
-- An index of a partition that is attached to a parent index is never a row
-- of its own.
-- $1 schema name. Returns the table whose rows the index covers (regclass
-- text), the index (regclass text) and the statements that rebuild it.
WITH idx AS (
    SELECT i.indexrelid, i.indrelid, c.relkind, t.relkind AS table_kind,
           format('CREATE INDEX %s ON ', quote_ident(c.relname::text)) AS create_prefix
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relnamespace = to_regnamespace($1::text)
), plain AS (
    -- What every index rebuilt (a parent or a child of one) must satisfy.
    SELECT x.indexrelid FROM idx x JOIN pg_index i ON i.indexrelid = x.indexrelid
    JOIN pg_class c ON c.oid = x.indexrelid
    WHERE NOT i.indisunique AND NOT i.indisexclusion AND i.indisvalid AND i.indisready
      AND NOT i.indisclustered AND NOT i.indisreplident AND c.reltablespace = 0
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
      AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.classoid = 'pg_class'::regclass AND d.objoid = x.indexrelid)
      AND NOT EXISTS (SELECT 1 FROM pg_seclabel l WHERE l.classoid = 'pg_class'::regclass AND l.objoid = x.indexrelid)
      AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = x.indexrelid AND a.attstattarget <> -1)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid
                                                 AND d.deptype NOT IN ('a', 'n', 'P', 'S'))
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = x.indexrelid
                                                 AND d.deptype NOT IN ('P', 'S'))
), children AS (
    SELECT h.inhparent AS parent, h.inhrelid AS child, ci.indrelid AS child_table
    FROM pg_inherits h JOIN pg_index ci ON ci.indexrelid = h.inhrelid
    WHERE h.inhparent IN (SELECT indexrelid FROM idx WHERE relkind = 'I')
)
SELECT x.indrelid::regclass::text AS table_name, x.indexrelid::regclass::text AS index_name,
       CASE WHEN x.relkind = 'i' THEN ARRAY[pg_get_indexdef(x.indexrelid)]
            ELSE (SELECT array_agg(pg_get_indexdef(ch.child) ORDER BY ch.child) FROM children ch WHERE ch.parent = x.indexrelid)
                 || (x.create_prefix || substr(pg_get_indexdef(x.indexrelid), length(x.create_prefix || 'ONLY ') + 1))
       END AS statements
FROM idx x
WHERE x.indexrelid IN (SELECT indexrelid FROM plain)
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = x.indexrelid)
  AND ((x.relkind = 'i' AND x.table_kind = 'r')
       OR (x.relkind = 'I' AND x.table_kind = 'p'
           AND NOT EXISTS (SELECT 1 FROM pg_class t WHERE t.oid = x.indrelid AND t.relispartition)
           AND starts_with(pg_get_indexdef(x.indexrelid), x.create_prefix || 'ONLY ')
           AND EXISTS (SELECT 1 FROM children ch WHERE ch.parent = x.indexrelid)
           AND NOT EXISTS (SELECT 1 FROM children ch JOIN pg_class ct ON ct.oid = ch.child_table
                           WHERE ch.parent = x.indexrelid
                             AND (ct.relkind <> 'r' OR ch.child NOT IN (SELECT indexrelid FROM plain)))
           -- every partition has its index: the rebuilt parent must end valid
           AND (SELECT count(*) FROM children ch WHERE ch.parent = x.indexrelid)
               = (SELECT count(*) FROM pg_inherits h WHERE h.inhparent = x.indrelid)))
ORDER BY x.indexrelid
