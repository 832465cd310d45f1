-- Empties the target's copy of the tenant's tables before the copy starts again (replicate.rs, restart_copy): a copy
-- interrupted by a target outage is redone from the start. Replica role, so no audit or truncate trigger fires.
-- $1 qualified table names from the catalog (partitioned roots truncate their partitions).
SELECT format('SET LOCAL session_replication_role = replica; TRUNCATE %s', string_agg(t, ', '))
FROM unnest($1::text[]) AS t
HAVING count(*) > 0
