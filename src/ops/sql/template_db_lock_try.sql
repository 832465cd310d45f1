-- Session-level advisory lock on a template (held on the maintenance
-- database, so every creator contends in the same database), keyed by name
-- like lock_try.sql. $2: shared mode (cloning) rather than exclusive (building).
SELECT CASE WHEN $2::bool THEN pg_try_advisory_lock_shared(hashtextextended($1::text, 0))
            ELSE pg_try_advisory_lock(hashtextextended($1::text, 0)) END AS acquired
