-- Releases one hold of a session-level exclusive advisory lock. $1 lock name.
SELECT pg_advisory_unlock(hashtextextended($1::text, 0))
