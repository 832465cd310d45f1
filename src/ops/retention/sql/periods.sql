-- The periods an operator set for a blueprint's rules (core V16); a rule
-- without a row keeps blueprint.toml's age.
-- $1 blueprint name.
SELECT rule::text, retention_days FROM shared.retention_periods WHERE blueprint = $1::text
