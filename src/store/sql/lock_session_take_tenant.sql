-- Session-level locks for work outside a transaction on one tenant: the
-- shared lock in shared mode, then the tenant's exclusively; bounded by the
-- session's lock_timeout. $1 shared lock name, $2 tenant lock name.
SELECT pg_advisory_lock_shared(hashtextextended($1::text, 0))::text,
       pg_advisory_lock(hashtextextended($2::text, 0))::text
