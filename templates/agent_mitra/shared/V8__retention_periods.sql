-- The periods of this pack's [[retention]] rules (blueprint.toml) that an operator may have set: V6 recorded them in
-- shared.data_retention_policies under the bare table names, where another pack's table of the same name would share
-- the row. Core V16's shared.retention_periods keys them by (blueprint, rule); `provision retention run` reads them
-- there and uses blueprint.toml's age for a rule without a row. V6's rows for these names were this pack's, so their
-- current values, an operator's edit included, are carried over. V6's rows stay: user_events (partitioned) is still
-- read there by `partitions rollover`, and V6 can never change. notifications has no table in this pack: no rule.
INSERT INTO shared.retention_periods (blueprint, rule, table_name, retention_days, description)
SELECT 'agent_mitra', d.table_name, d.table_name, d.retention_days, d.description
FROM shared.data_retention_policies d
WHERE d.table_name IN ('insurance_policies', 'premium_payments', 'user_sessions')
ON CONFLICT (blueprint, rule) DO NOTHING;
