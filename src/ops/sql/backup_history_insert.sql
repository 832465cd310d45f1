-- Records one backup in shared.backup_history (seed 001 §5.2). $1 tenant id,
-- $2 seconds since the backup started, $3 size in bytes (NULL on failure),
-- $4 'completed' or 'failed', $5 error message. {{ extra_columns }} and
-- {{ extra_values }} add the tenant code and file where the table has columns
-- for them. Times are server time, like the columns' defaults.
INSERT INTO shared.backup_history
    (tenant_id, backup_type, started_at, completed_at, size_bytes, status, error_message, verification_status{{ extra_columns }})
VALUES ($1, 'full', clock_timestamp() - make_interval(secs => $2), clock_timestamp(), $3, $4, $5, 'pending'{{ extra_values }})
RETURNING backup_id
