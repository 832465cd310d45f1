-- The SELECT grants to provision_auditor that a tenant's read-audited
-- tables lack; each row names the table owner, who grants. Partitions are
-- covered through their parent (pgaudit checks the relation the query
-- names, and queries name the parent).
-- $1 tenant schema; $2 tables whose reads are audited.
SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       format('GRANT SELECT ON %I.%I TO provision_auditor', n.nspname, c.relname) AS ddl
FROM pg_catalog.pg_namespace n
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
WHERE n.nspname = $1::text
  AND c.relname = ANY ($2::text[])
  AND c.relkind IN ('r', 'p')
  AND NOT pg_catalog.has_table_privilege('provision_auditor', c.oid, 'SELECT')
ORDER BY c.relname
