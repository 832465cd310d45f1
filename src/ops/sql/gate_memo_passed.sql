-- Whether this blueprint's contents passed the gate for a new tenant here.
-- $1 blueprint name, $2 digest.
SELECT EXISTS (SELECT 1 FROM provision.gate_passed WHERE blueprint = $1 AND digest = $2)
