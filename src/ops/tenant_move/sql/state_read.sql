-- The unfinished move of one tenant away from this database, if any (shared.tenant_moves, core V19).
SELECT target_server::text, offline, step::text
FROM shared.tenant_moves
WHERE tenant_code = $1 AND finished_at IS NULL
