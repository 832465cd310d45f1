-- An aborted move leaves no record: the tenant never left.
DELETE FROM shared.tenant_moves WHERE tenant_code = $1 AND finished_at IS NULL
