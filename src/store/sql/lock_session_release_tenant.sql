-- Releases what lock_session_take_tenant.sql took. $1 shared lock name,
-- $2 tenant lock name.
SELECT pg_advisory_unlock_shared(hashtextextended($1::text, 0)),
       pg_advisory_unlock(hashtextextended($2::text, 0))
