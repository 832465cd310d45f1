-- Settings for rebuilding the secondary indexes a bulk sample load dropped
-- (sample/indexes.rs), for the rest of the load's transaction, which builds
-- no other index. Up to two parallel workers sort a B-tree's entries beside
-- the backend (the pack's SQL ran on one core; the build can use a second),
-- and the memory lets a sort, or a GIN index's bulk build, finish in one pass.
SET LOCAL max_parallel_maintenance_workers = 2;
SET LOCAL maintenance_work_mem = '512MB';
