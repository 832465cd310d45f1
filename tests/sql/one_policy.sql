-- One agent, one holder and one active policy in lic_schema, for the
-- search, dashboard and function tests.
WITH agent_user AS (
    INSERT INTO lic_schema.users (email, password_hash, first_name, last_name, display_name, role)
    VALUES ('agent1@lic.example', '!', 'Arjun', 'Mehta', 'Arjun Mehta', 'senior_agent') RETURNING user_id
), holder_user AS (
    INSERT INTO lic_schema.users (email, password_hash, first_name, last_name, display_name, role)
    VALUES ('holder1@lic.example', '!', 'Priya', 'Ramanathan', 'Priya Ramanathan', 'policyholder') RETURNING user_id
), agent AS (
    INSERT INTO lic_schema.agents (user_id, agent_code) SELECT user_id, 'AG-1' FROM agent_user RETURNING agent_id
), holder AS (
    INSERT INTO lic_schema.policyholders (user_id, agent_id) SELECT h.user_id, a.agent_id FROM holder_user h, agent a
    RETURNING policyholder_id, agent_id
)
INSERT INTO lic_schema.insurance_policies (policy_number, policyholder_id, agent_id, policy_type, plan_name, sum_assured,
                                           premium_amount, premium_frequency, application_date, start_date, status)
SELECT 'LIC-0001', policyholder_id, agent_id, 'term_life', 'Jeevan Amar', 5000000, 12000, 'annual', current_date, current_date, 'active'
FROM holder;
