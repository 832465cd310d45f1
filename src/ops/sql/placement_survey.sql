-- What placement needs to know about one server's database (src/ops/placement): how many relations it holds
-- (the measure new tenants are placed by) and whether provision's registry exists there yet.
SELECT (SELECT count(*) FROM pg_catalog.pg_class) AS relations,
       to_regclass('shared.tenants') IS NOT NULL AS has_registry;
