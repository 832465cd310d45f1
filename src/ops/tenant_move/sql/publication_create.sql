-- The publication of one tenant on the source: its schema and its audit log (a pack that audits nothing has none),
-- partitions published as their root so the target routes rows into its own partitions.
-- $1 publication, $2 schema, $3 audit log name.
SELECT format('CREATE PUBLICATION %I FOR TABLES IN SCHEMA %I%s WITH (publish_via_partition_root = true)',
              $1::text, $2::text,
              CASE WHEN to_regclass(format('audit.%I', $3::text)) IS NOT NULL THEN format(', TABLE audit.%I', $3::text)
                   ELSE '' END)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1)
