-- Sample policyholders; field order = people::holder.
COPY seed_policyholders (policyholder_id, user_id, agent_id, customer_id, salutation, marital_status, occupation,
                         annual_income, education_level, risk_profile, investment_horizon, communication_preferences,
                         marketing_consent, nominee_details, preferred_contact_time, preferred_language,
                         digital_literacy_score, engagement_score, onboarding_status, churn_risk_score,
                         last_interaction_at, total_interactions, created_at)
FROM STDIN
