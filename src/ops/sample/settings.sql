-- Transaction settings for loading a sample (the caller sets search_path).
-- Sample data is reproducible, so a crash losing the last commit costs nothing.
SET LOCAL synchronous_commit = off;
-- Staging tables live in temp buffers; at the 8MB default a large sample
-- spills them to disk. Only takes effect before the session's first temp
-- table (and may be repeated with the same value afterwards).
SET LOCAL temp_buffers = '256MB';
-- Room for the anti-joins' hash tables.
SET LOCAL work_mem = '64MB';
-- GIN indexes (full-text, JSONB) take new entries into a pending list and
-- merge it into the index each time it outgrows this limit; merging a bulk
-- load in fewer, larger batches is much cheaper than many 4MB ones. The
-- list is merged at the latest by the next vacuum.
SET LOCAL gin_pending_list_limit = '64MB';
