-- Waits for the session-level template lock; bounded by the session's lock_timeout.
SELECT CASE WHEN $2::bool THEN pg_advisory_lock_shared(hashtextextended($1::text, 0))::text
            ELSE pg_advisory_lock(hashtextextended($1::text, 0))::text END
