-- Releases a session-level lock taken by lock_session_{try,wait}_mode.sql.
-- $1 lock name, $2: shared mode rather than exclusive.
SELECT CASE WHEN $2::bool THEN pg_advisory_unlock_shared(hashtextextended($1::text, 0))
            ELSE pg_advisory_unlock(hashtextextended($1::text, 0)) END AS released
