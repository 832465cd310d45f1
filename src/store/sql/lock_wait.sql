-- Waits for the advisory lock; bounded by the transaction's lock_timeout.
SELECT CASE WHEN $2::bool THEN pg_advisory_xact_lock_shared(hashtextextended($1::text, 0))::text
            ELSE pg_advisory_xact_lock(hashtextextended($1::text, 0))::text END
