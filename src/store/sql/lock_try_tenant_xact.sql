-- The two locks of work on one tenant, in one round trip and without
-- waiting: the shared lock in shared mode, then, only if that came, the
-- tenant's exclusively; both transaction-scoped. False: the caller takes
-- them one by one (one taken here stays held until the transaction ends,
-- and taking it again is harmless). $1 shared lock name, $2 tenant lock name.
SELECT CASE WHEN pg_try_advisory_xact_lock_shared(hashtextextended($1::text, 0))
            THEN pg_try_advisory_xact_lock(hashtextextended($2::text, 0))
            ELSE false END AS acquired
