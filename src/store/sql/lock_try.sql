-- Transaction-scoped advisory lock, keyed by a name (e.g. 'provision:tenant:lic')
-- so the key depends on the tenant, not on the database's OIDs. $2: shared mode.
SELECT CASE WHEN $2::bool THEN pg_try_advisory_xact_lock_shared(hashtextextended($1::text, 0))
            ELSE pg_try_advisory_xact_lock(hashtextextended($1::text, 0)) END AS acquired
