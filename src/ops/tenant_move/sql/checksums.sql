-- Rows and an order-independent checksum of every given table (a partitioned one with all its partitions), compared
-- between source and target during the freeze: the sum of 64 bits of each row's md5. Rows are hashed in their text
-- form, so both sessions set the same TimeZone, DateStyle, IntervalStyle and extra_float_digits first (freeze.rs).
-- query_to_xml runs one count per table in this one round trip. $1 qualified table names from the catalog.
SELECT t.name,
       (xpath('/row/n/text()', x))[1]::text::bigint AS rows,
       (xpath('/row/s/text()', x))[1]::text AS checksum
FROM unnest($1::text[]) AS t(name),
     LATERAL query_to_xml(
         format('SELECT count(*) AS n, coalesce(sum((''x'' || substr(md5(r::text), 1, 16))::bit(64)::bigint), 0) AS s '
                'FROM %s r', t.name),
         false, true, '') AS x
ORDER BY t.name
