-- Sample agents' denormalised counters (sub-agents, policies sold, active
-- policyholders, premium collected), recomputed from the tenant's rows.
-- Only rows whose counters change are written, so a rerun updates nothing.
WITH sample AS (
    SELECT agent_id FROM seed_agents
), subs AS (
    SELECT parent_agent_id AS agent_id, count(*) AS n
    FROM agents WHERE parent_agent_id IN (SELECT agent_id FROM sample)
    GROUP BY 1
), sold AS (
    SELECT agent_id, count(*) AS policies,
           count(DISTINCT policyholder_id) FILTER (WHERE status = 'active') AS holders
    FROM insurance_policies WHERE agent_id IN (SELECT agent_id FROM sample)
    GROUP BY 1
), collected AS (
    SELECT p.agent_id, sum(pp.amount) AS amount
    FROM premium_payments pp JOIN insurance_policies p ON p.policy_id = pp.policy_id
    WHERE pp.status = 'completed' AND p.agent_id IN (SELECT agent_id FROM sample)
    GROUP BY 1
), counters AS (
    SELECT sample.agent_id, coalesce(subs.n, 0)::int AS subs, coalesce(sold.policies, 0)::int AS policies,
           coalesce(sold.holders, 0)::int AS holders, coalesce(collected.amount, 0) AS amount
    FROM sample
    LEFT JOIN subs ON subs.agent_id = sample.agent_id
    LEFT JOIN sold ON sold.agent_id = sample.agent_id
    LEFT JOIN collected ON collected.agent_id = sample.agent_id
)
UPDATE agents a
SET sub_agents_count = c.subs, total_policies_sold = c.policies, updated_at = now(),
    active_policyholders = c.holders, total_premium_collected = c.amount
FROM counters c
WHERE a.agent_id = c.agent_id
  AND (a.sub_agents_count, a.total_policies_sold, a.active_policyholders, a.total_premium_collected)
      IS DISTINCT FROM (c.subs, c.policies, c.holders, c.amount)
