-- Session-level shared advisory locks on many names at once, without
-- waiting: which ones were taken. (A session that holds one already takes it
-- again.) $1 lock names (e.g. 'provision:tenant:lic').
SELECT k.name, pg_try_advisory_lock_shared(hashtextextended(k.name, 0)) AS acquired
FROM unnest($1::text[]) AS k(name)
