-- Waits for a session-level advisory lock; bounded by the session's
-- lock_timeout. $1 lock name, $2: shared mode rather than exclusive.
SELECT CASE WHEN $2::bool THEN pg_advisory_lock_shared(hashtextextended($1::text, 0))::text
            ELSE pg_advisory_lock(hashtextextended($1::text, 0))::text END
