-- Transaction settings for loading a blueprint's sample (the caller sets
-- search_path to the tenant schema first).
-- Sample data is reproducible, so a crash losing the last commit costs nothing.
SET LOCAL synchronous_commit = off;
-- Room for temporary tables a sample may build; only takes effect before the
-- session's first temporary table (and may be repeated with the same value).
SET LOCAL temp_buffers = '256MB';
-- Room for the hash tables of set-wise inserts and their anti-joins.
SET LOCAL work_mem = '64MB';
-- GIN indexes (full-text, JSONB) take new entries into a pending list and
-- merge it into the index each time it outgrows this limit; merging a bulk
-- load in fewer, larger batches is much cheaper than many 4MB ones. The
-- list is merged at the latest by the next vacuum.
SET LOCAL gin_pending_list_limit = '64MB';
-- Each sample statement runs once over many rows, and its cost estimate
-- (high, and inflated further when a pack turns a join method off) would
-- have JIT compile and optimise every large expression first: measured at
-- about a tenth of a 100k-policy load's CPU, for no gain in one pass.
SET LOCAL jit = off;
