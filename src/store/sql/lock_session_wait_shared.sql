-- Session-level shared advisory locks on many names, waiting for each in
-- name order; the caller bounds the whole wait (lock_timeout and
-- statement_timeout). Locks taken before a timeout stay held: they are
-- session-level. $1 lock names.
SELECT count(pg_advisory_lock_shared(hashtextextended(k.name, 0)))
FROM (SELECT name FROM unnest($1::text[]) AS name ORDER BY name) AS k
