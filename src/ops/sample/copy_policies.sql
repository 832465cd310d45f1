-- Sample policies; field order = policies::policy.
COPY seed_insurance_policies (policy_id, policy_number, provider_policy_id, policyholder_id, agent_id, provider_id,
                              policy_type, plan_name, plan_code, category, sum_assured, premium_amount,
                              premium_frequency, premium_mode, application_date, approval_date, start_date,
                              maturity_date, renewal_date, status, sub_status, payment_status, coverage_details,
                              policy_document_url, nominee_details, last_payment_date, next_payment_date,
                              total_payments, outstanding_amount, created_at)
FROM STDIN
