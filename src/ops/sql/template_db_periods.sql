-- The current period of every partition interval on the clock
-- template_db_server.sql uses, in its format ('day:…,month:…,week:…'):
-- what a spare's label records and template_db_take.sql compares.
SELECT string_agg(u || ':' || date_trunc(u, localtimestamp)::date::text, ',' ORDER BY u)
FROM unnest(ARRAY['day', 'month', 'week']) AS u
