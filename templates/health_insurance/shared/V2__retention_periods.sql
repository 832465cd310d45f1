-- The periods of this pack's [[retention]] rules (blueprint.toml) that an operator may have set: V1 recorded them in
-- shared.data_retention_policies under the bare table names, where another pack's claims or sessions would share the
-- row. Core V16's shared.retention_periods keys them by (blueprint, rule); `provision retention run` reads them there
-- and uses blueprint.toml's age for a rule without a row. V1's rows were this pack's (no other shipped pack writes
-- these names there), so their current values, an operator's edit included, are carried over. V1's rows stay where
-- they are: they no longer drive anything for these unpartitioned tables, and V1 can never change.
-- seed: members is "while active + 7 years" (blueprint.toml measures it from termination_date of a member no longer
-- active); V1 recorded it as a plain 7 years, which is the period carried over.
INSERT INTO shared.retention_periods (blueprint, rule, table_name, retention_days, description)
SELECT 'health_insurance', d.table_name, d.table_name, d.retention_days, d.description
FROM shared.data_retention_policies d
WHERE d.table_name IN ('claims', 'policies', 'members', 'payments', 'sessions')
ON CONFLICT (blueprint, rule) DO NOTHING;
