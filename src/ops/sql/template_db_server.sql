-- What a template's key needs from the server: its version (STRATEGY needs
-- 15) and, for each partition interval in use ($1: 'day' | 'week' |
-- 'month'), the first day of the current period on the clock
-- partition_window.sql uses, e.g. 'month:2025-07-01'.
SELECT current_setting('server_version_num')::int AS version_num,
       coalesce((SELECT string_agg(u || ':' || date_trunc(u, localtimestamp)::date::text, ',' ORDER BY u)
                 FROM unnest($1::text[]) AS u), '') AS periods
