-- Starts (or restarts, after an abort or a finished earlier move) the record of a move.
-- $1 code, $2 target server, $3 offline, $4 publication, $5 subscription.
INSERT INTO shared.tenant_moves AS m (tenant_code, target_server, offline, step, publication_name, subscription_name)
VALUES ($1, $2, $3, 'started', $4, $5)
ON CONFLICT (tenant_code) DO UPDATE
SET target_server = EXCLUDED.target_server, offline = EXCLUDED.offline, step = 'started',
    publication_name = EXCLUDED.publication_name, subscription_name = EXCLUDED.subscription_name,
    started_at = now(), updated_at = now(), finished_at = NULL
