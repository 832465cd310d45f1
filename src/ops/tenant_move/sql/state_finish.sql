-- A move is complete: the row stays as its history.
UPDATE shared.tenant_moves SET step = 'done', updated_at = now(), finished_at = now()
WHERE tenant_code = $1 AND finished_at IS NULL
