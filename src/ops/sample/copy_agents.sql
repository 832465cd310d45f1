-- Sample agents; field order = people::agent. Counters are filled in after the merge (agent_counters.sql).
COPY seed_agents (agent_id, user_id, provider_id, agent_code, license_number, license_expiry_date,
                  license_issuing_authority, business_name, business_address, pan_number, territory, operating_regions,
                  experience_years, specializations, commission_rate, whatsapp_business_number, business_email,
                  customer_satisfaction_score, parent_agent_id, hierarchy_level, status, verification_status,
                  approved_at, created_at)
FROM STDIN
