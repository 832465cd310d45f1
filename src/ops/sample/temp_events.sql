-- Staging table for sample events (only when the tenant has user_events).
CREATE TEMP TABLE seed_user_events (LIKE user_events INCLUDING DEFAULTS) ON COMMIT DROP;
