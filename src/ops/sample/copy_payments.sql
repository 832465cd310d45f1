-- Sample premium payments; field order = policies::payments.
COPY seed_premium_payments (payment_id, policy_id, policyholder_id, amount, payment_date, due_date, grace_period_days,
                            payment_method, payment_gateway, gateway_transaction_id, status, failure_reason,
                            retry_count, reconciled, reconciled_at, created_at)
FROM STDIN
