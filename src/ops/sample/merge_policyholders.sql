-- Moves staged policyholders in, skipping those that exist (the primary key
-- is their only unique column).
INSERT INTO policyholders
SELECT s.* FROM seed_policyholders s
WHERE NOT EXISTS (SELECT 1 FROM policyholders t WHERE t.policyholder_id = s.policyholder_id)
