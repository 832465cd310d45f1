-- lock_session_take_tenant.sql without waiting: the shared lock in shared
-- mode and, only if that was free, the tenant's exclusively. $1 shared lock
-- name, $2 tenant lock name. On false, the caller releases what was taken.
SELECT CASE WHEN pg_try_advisory_lock_shared(hashtextextended($1::text, 0))
            THEN pg_try_advisory_lock(hashtextextended($2::text, 0)) ELSE false END AS acquired
