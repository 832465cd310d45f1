-- Every partition attached to one parent, read from pg_inherits and the
-- partition bound itself (pg_get_expr(relpartbound)), one row each as
-- 'name|lower|upper' with the bounds as dates ('DEFAULT|DEFAULT' for the
-- DEFAULT partition), ordered by lower bound. The test replaces :schema and
-- :table with literals.
SELECT concat_ws('|', c.relname,
                 coalesce(((r.b)[1])::timestamp::date::text, 'DEFAULT'),
                 coalesce(((r.b)[2])::timestamp::date::text, 'DEFAULT'))
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
CROSS JOIN LATERAL regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                $re$FROM \('([^']*)'\) TO \('([^']*)'\)$re$) AS r(b)
WHERE pn.nspname = :schema AND p.relname = :table
ORDER BY ((r.b)[1])::timestamp NULLS FIRST, c.relname
