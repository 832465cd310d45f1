-- Releases a session-level template lock taken by template_db_lock_*.sql.
SELECT CASE WHEN $2::bool THEN pg_advisory_unlock_shared(hashtextextended($1::text, 0))
            ELSE pg_advisory_unlock(hashtextextended($1::text, 0)) END AS released
