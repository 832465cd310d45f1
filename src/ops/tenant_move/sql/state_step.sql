-- Records how far a move got. $1 code, $2 step.
UPDATE shared.tenant_moves SET step = $2, updated_at = now() WHERE tenant_code = $1 AND finished_at IS NULL
