-- Insurance providers sample policies may point at, in a stable order.
SELECT provider_code, provider_id
FROM shared.insurance_providers
WHERE status = 'active'
ORDER BY provider_code
