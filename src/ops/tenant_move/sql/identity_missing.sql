-- Tables of the tenant schema whose UPDATE and DELETE a publication would refuse on the source (no primary key and
-- no replica identity): a live move would break the application's writes there, so it refuses them up front.
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind = 'r'
  AND (c.relreplident = 'n'
       OR (c.relreplident = 'd' AND NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))
ORDER BY 1
