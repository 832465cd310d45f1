-- The blueprints whose shared part this database records: one shared
-- history table provision."<blueprint>_shared_history" each.
SELECT left(c.relname, -length('_shared_history'))
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'provision' AND c.relkind = 'r' AND c.relname LIKE '%\_shared\_history'
ORDER BY 1
