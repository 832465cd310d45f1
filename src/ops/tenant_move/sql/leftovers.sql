-- Whether this server still has the schema or the audit log of a tenant by that code (a source copy an earlier move
-- kept, or a log kept for retention after `tenant remove`). $1 audit log name, $2 schema.
SELECT to_regclass(format('audit.%I', $1::text)) IS NOT NULL
    OR EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $2)
