-- Hands the benchmark's 200 parents to pg_partman, from the state `provision
-- up` with premake = 0 leaves (a DEFAULT and the current month per parent),
-- and ends in the same state, now owned by partman:
--   * provision's children are dropped (create_parent() always creates
--     `<table>_default` and would collide; dropping the current month too
--     keeps this independent of partman's naming, which changed in 5.x);
--   * create_parent(): native (4.x) / range (5.x), monthly, starting at the
--     current month. premake must be >= 1, so it also makes next month,
--     which is dropped again: DEFAULT + current month, like the others;
--   * infinite_time_partitions = true, and premake such that the next
--     run_maintenance_proc() creates exactly the 3 months after the current
--     one, i.e. provision's 600 partitions. pg_partman counts premake from
--     CURRENT_TIMESTAMP, not from the start of the current month, rounding
--     (age(last partition, now) / 1 month): in the second half of a month
--     premake = 3 makes 4 partitions per parent, so 2 is what makes 3.
-- Variable: partman_major (4 or 5).
\set ON_ERROR_STOP 1
\ir parents.sql
SELECT set_config('bench.partman_major', :'partman_major', false);
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
DO $$
DECLARE
    r record;
    c record;
    this_month text := date_trunc('month', localtimestamp)::text;
    next_month timestamp := date_trunc('month', localtimestamp) + interval '1 month';
BEGIN
    FOR r IN SELECT * FROM bench_parents ORDER BY sch, tbl LOOP
        FOR c IN SELECT i.inhrelid::regclass AS child FROM pg_catalog.pg_inherits i WHERE i.inhparent = r.parent LOOP
            EXECUTE format('DROP TABLE %s', c.child);
        END LOOP;
        IF current_setting('bench.partman_major')::int >= 5 THEN
            PERFORM partman.create_parent(p_parent_table := format('%I.%I', r.sch, r.tbl), p_control := r.col::text,
                                          p_interval := '1 month', p_type := 'range', p_premake := 1,
                                          p_start_partition := this_month);
        ELSE
            PERFORM partman.create_parent(p_parent_table := format('%I.%I', r.sch, r.tbl), p_control := r.col::text,
                                          p_type := 'native', p_interval := 'monthly', p_premake := 1,
                                          p_start_partition := this_month);
        END IF;
        FOR c IN SELECT i.inhrelid::regclass AS child FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class k ON k.oid = i.inhrelid
                 WHERE i.inhparent = r.parent
                   AND pg_catalog.pg_get_expr(k.relpartbound, k.oid) LIKE format('FOR VALUES FROM (%L)%%', next_month) LOOP
            EXECUTE format('DROP TABLE %s', c.child);
        END LOOP;
        COMMIT; -- one parent per transaction: 200 at once exceed max_locks_per_transaction
    END LOOP;
END
$$;
UPDATE partman.part_config
SET infinite_time_partitions = true,
    premake = greatest(1, round(extract(epoch FROM age(date_trunc('month', CURRENT_TIMESTAMP) + interval '3 months', CURRENT_TIMESTAMP))
                                / extract(epoch FROM interval '1 month'))::int);
SELECT DISTINCT premake FROM partman.part_config;
