-- A session-level exclusive advisory lock, without waiting. $1 lock name.
SELECT pg_try_advisory_lock(hashtextextended($1::text, 0)) AS acquired
