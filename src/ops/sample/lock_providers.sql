-- Bulk mode skips the per-row foreign-key triggers, which would also have
-- locked the referenced rows against deletion until commit. The sample's own
-- parents are new in this transaction (invisible to others) or belong to the
-- tenant this process holds locked; the shared providers are locked here.
SELECT 1
FROM shared.insurance_providers
WHERE provider_id IN (SELECT provider_id FROM seed_agents UNION SELECT provider_id FROM seed_insurance_policies)
FOR KEY SHARE
