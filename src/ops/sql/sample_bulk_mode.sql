-- Whether the sample may be loaded with triggers off
-- (session_replication_role = replica) and its foreign keys checked set-wise
-- afterwards (sample_foreign_keys.sql): per-row foreign-key and audit
-- triggers are most of a bulk load's time. Only a superuser may set that,
-- and only when no table of the tenant schema has a trigger or rule of its
-- own that fires on INSERT, because replica mode would silence those too —
-- except provision's audit trigger, which the bulk load replaces by one
-- summary audit row per table (sample_audit_summary.sql).
-- $1 schema name.
WITH tables AS (
    SELECT c.oid AS relid FROM pg_class c
    WHERE c.relnamespace = to_regnamespace($1::text) AND c.relkind IN ('r', 'p')
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
