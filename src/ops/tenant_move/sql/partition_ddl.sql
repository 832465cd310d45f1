-- The partitions the source has and this (target) database lacks, as DDL with the owner who must run it. Run on the
-- target after provisioning, so no row the copy brings lands in a DEFAULT partition the source did not use.
-- $1 names, $2 parents, $3 bounds, $4 owners (qualified names from the source's catalog, relations.sql).
SELECT p.owner, format('CREATE TABLE %s PARTITION OF %s %s', p.name, p.parent, p.bound) AS ddl, p.name
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS p(name, parent, bound, owner, ord)
WHERE to_regclass(p.name) IS NULL AND to_regclass(p.parent) IS NOT NULL
ORDER BY p.ord
