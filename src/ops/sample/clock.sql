-- The database's clock, read once per tenant: the first day of its current
-- month, as epoch seconds of the zone-less localtimestamp. Every sample date
-- is relative to it.
SELECT extract(epoch FROM date_trunc('month', localtimestamp))::bigint AS anchor
