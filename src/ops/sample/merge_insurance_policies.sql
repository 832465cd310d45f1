-- Moves staged policies in, skipping any whose key or policy number exists.
INSERT INTO insurance_policies
SELECT s.* FROM seed_insurance_policies s
WHERE NOT EXISTS (SELECT 1 FROM insurance_policies t WHERE t.policy_id = s.policy_id)
  AND NOT EXISTS (SELECT 1 FROM insurance_policies t WHERE t.policy_number = s.policy_number)
