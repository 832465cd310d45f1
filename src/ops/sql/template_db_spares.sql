-- The spares of one template ($1: 'provision_tpl_<hash>_spare_'), by name:
-- what `db create` may rename to a caller's database, and what a refill counts.
SELECT d.datname::text
FROM pg_catalog.pg_database d
WHERE starts_with(d.datname::text, $1::text)
  AND substr(d.datname::text, length($1::text) + 1) ~ '^[0-9]+$'
  AND NOT d.datistemplate
ORDER BY d.datname
