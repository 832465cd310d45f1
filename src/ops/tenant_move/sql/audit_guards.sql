-- The TRUNCATE guard of the audit partitions just added to the target (statement triggers are not cloned onto
-- partitions); a pack that audits nothing has no log to guard. $1 code, $2 audit log name.
SELECT audit.ensure_audit_log($1) WHERE to_regclass(format('audit.%I', $2::text)) IS NOT NULL
