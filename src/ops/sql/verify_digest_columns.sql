-- The columns of src/sql/verify_fingerprint.sql (same keys: schema, 'column',
-- table.column), as raw typed fields and the default's stored expression;
-- src/verify/fingerprint.rs formats them like verify_digest.sql's details.
-- $1 schemas; $2 a LIKE pattern of tables to leave out, or NULL.
SELECT n.nspname::text, c.relname::text, a.attname::text, a.atttypid, a.atttypmod, a.attndims, a.attnotnull,
       a.attgenerated::text, a.attidentity::text, a.attcollation, a.attnum, d.adbin::text
FROM pg_catalog.pg_namespace n
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = ANY ($1::text[])
  AND NOT c.relispartition AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND ($2::text IS NULL OR c.relname NOT LIKE $2::text)
