-- Waits for a session-level exclusive advisory lock; bounded by the
-- transaction's lock_timeout (the lock outlives the transaction). $1 lock name.
SELECT pg_advisory_lock(hashtextextended($1::text, 0))::text
