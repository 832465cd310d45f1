-- One batch of a retention job, one statement: lock up to a batch of expired
-- rows in key order (FOR UPDATE: a row live traffic is changing is waited
-- for, up to lock_timeout), delete or anonymise exactly those, record the
-- batch in the tenant's audit log (summary.sql: in the same statement, so the
-- record and the change commit or vanish together) and return how many rows
-- changed. Rows done no longer match the predicate (deleted, or anonymised:
-- the predicate excludes rows whose columns are already NULL or a hash), so
-- the next batch — or the next run after a crash — starts where this ended.
-- Within a run, a batch starts after the last key the previous one changed
-- ($2), so no batch reads again the rows done before it.
-- plan.rs fills the placeholders with quoted identifiers and literals; $1 is
-- the cutoff (text), $2 the last key changed (text, NULL at first). Returns
-- the rows changed and the last key among them.
WITH batch AS (
    SELECT {keys} FROM {rel} AS t WHERE {after} AND {predicate} ORDER BY {keys} LIMIT {limit} FOR UPDATE
), {salt}changed AS (
    {change}
    RETURNING 1
){summary}
SELECT count(*), ({last}) FROM changed
