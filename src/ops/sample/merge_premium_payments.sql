-- Moves staged payments in, skipping those that exist (the primary key is
-- their only unique column).
INSERT INTO premium_payments
SELECT s.* FROM seed_premium_payments s
WHERE NOT EXISTS (SELECT 1 FROM premium_payments t WHERE t.payment_id = s.payment_id)
