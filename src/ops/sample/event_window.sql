-- Where sample events go: [date_trunc(unit, now), + (premake + 1) units),
-- the window provisioning gives user_events partitions, cut short where its
-- partitions stop (they are made at tenant creation and not yet rolled
-- forward), so every event lands in a real partition. Epoch seconds of the
-- zone-less localtimestamp; covered_to is NULL when no partition holds the
-- current period (events then go to the DEFAULT partition).
-- $1 unit ('month' | 'week' | 'day'), $2 premake.
WITH RECURSIVE wanted AS (
    SELECT date_trunc($1::text, localtimestamp) AS lo,
           date_trunc($1::text, localtimestamp) + ($2::int + 1) * ('1 ' || $1::text)::interval AS hi
), bounds AS (
    SELECT pg_get_expr(c.relpartbound, c.oid) AS b
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = to_regclass('user_events')
), parts AS (
    -- Only plain FROM (timestamp) TO (timestamp) bounds; DEFAULT and MINVALUE/MAXVALUE do not match.
    SELECT substring(b FROM $re$^FOR VALUES FROM \('([^']+)'\) TO \('[^']+'\)$$re$)::timestamp AS lo,
           substring(b FROM $re$^FOR VALUES FROM \('[^']+'\) TO \('([^']+)'\)$$re$)::timestamp AS hi
    FROM bounds
), covered AS (
    SELECT p.hi FROM parts p, wanted w WHERE p.lo <= w.lo AND w.lo < p.hi
    UNION
    SELECT p.hi FROM parts p JOIN covered c ON p.lo = c.hi, wanted w WHERE c.hi < w.hi
)
SELECT extract(epoch FROM w.lo)::bigint AS window_from,
       extract(epoch FROM w.hi)::bigint AS window_to,
       extract(epoch FROM least(w.hi, (SELECT max(hi) FROM covered)))::bigint AS covered_to
FROM wanted w
