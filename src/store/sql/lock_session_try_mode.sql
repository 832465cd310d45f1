-- A session-level advisory lock without waiting, keyed by name like
-- lock_try.sql. $1 lock name, $2: shared mode rather than exclusive.
SELECT CASE WHEN $2::bool THEN pg_try_advisory_lock_shared(hashtextextended($1::text, 0))
            ELSE pg_try_advisory_lock(hashtextextended($1::text, 0)) END AS acquired
