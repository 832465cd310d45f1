-- Whether the sample may be moved in with triggers off
-- (session_replication_role = replica) and its foreign keys checked set-wise
-- afterwards (foreign_keys.sql): per-row foreign-key triggers are about half
-- of the load time. Only a superuser may set that, and only tables with no
-- trigger or rule of their own that fires on INSERT qualify, because replica
-- mode would silence those too — except provision's audit trigger, which the
-- bulk load replaces by one summary audit row per table (audit_summary.sql).
-- $1 the tables the sample fills (names in the tenant schema, on search_path).
WITH tables AS (
    -- pg_partition_tree lists a partitioned table with its partitions, but
    -- nothing at all for a plain table.
    SELECT to_regclass(t) AS relid FROM unnest($1::text[]) AS t
    UNION
    SELECT p.relid FROM unnest($1::text[]) AS t CROSS JOIN LATERAL pg_partition_tree(to_regclass(t)) AS p
)
SELECT current_setting('is_superuser') = 'on'
   AND NOT EXISTS (
       SELECT 1 FROM pg_trigger g
       WHERE g.tgrelid IN (SELECT relid FROM tables) AND NOT g.tgisinternal
         AND (g.tgtype & 4) <> 0  -- TRIGGER_TYPE_INSERT
         AND g.tgname <> 'audit_row_change'
   )
   AND NOT EXISTS (
       SELECT 1 FROM pg_rewrite r
       WHERE r.ev_class IN (SELECT relid FROM tables) AND r.ev_type = '3'  -- ON INSERT
   )
