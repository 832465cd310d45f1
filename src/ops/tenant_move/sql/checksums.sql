-- Rows and an order-independent checksum of every given table (a partitioned one with all its partitions), compared
-- between source and target during the freeze: the sum of a 64-bit hash of each row. A table whose every column type
-- has an extended hash function ($2 true, probed by sql/hashable.sql) is hashed column by column with
-- hash_record_extended, several times faster than hashing the row's text; any other table by its text form, so both
-- sessions set the same TimeZone, DateStyle, IntervalStyle and extra_float_digits first (freeze.rs).
-- query_to_xml runs one count per table in this one round trip. $1 qualified table names from the catalog.
SELECT t.name,
       (xpath('/row/n/text()', x))[1]::text::bigint AS rows,
       (xpath('/row/s/text()', x))[1]::text AS checksum
FROM unnest($1::text[], $2::bool[]) AS t(name, hashable),
     LATERAL query_to_xml(
         format('SELECT count(*) AS n, coalesce(sum(%s), 0) AS s FROM %s r',
                CASE WHEN t.hashable THEN 'pg_catalog.hash_record_extended(r, 0)'
                     ELSE 'pg_catalog.hashtextextended(r::text, 0)' END,
                t.name),
         false, true, '') AS x
ORDER BY t.name
