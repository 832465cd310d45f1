-- Moves staged agents in, skipping any whose key, agent code or licence
-- exists already, or whose user was skipped (see merge_users.sql).
INSERT INTO agents
SELECT s.* FROM seed_agents s
WHERE NOT EXISTS (SELECT 1 FROM agents t WHERE t.agent_id = s.agent_id)
  AND NOT EXISTS (SELECT 1 FROM agents t WHERE t.agent_code = s.agent_code)
  AND NOT EXISTS (SELECT 1 FROM agents t WHERE t.license_number = s.license_number)
