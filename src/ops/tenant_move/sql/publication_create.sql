-- The publication of one tenant on the source: its schema and its audit log, partitions published as their root so
-- the target routes rows into its own partitions. $1 publication, $2 schema, $3 audit log name.
SELECT format('CREATE PUBLICATION %I FOR TABLES IN SCHEMA %I, TABLE audit.%I WITH (publish_via_partition_root = true)',
              $1::text, $2::text, $3::text)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1)
