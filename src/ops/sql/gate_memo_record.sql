-- Remembers that this blueprint's contents passed the gate for a new tenant.
-- $1 blueprint name, $2 digest.
INSERT INTO provision.gate_passed (blueprint, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING
