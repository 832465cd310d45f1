-- The user that holds the first sample agent's e-mail, if any: tells whether
-- the tenant already holds a sample made with another rng seed.
-- $1 e-mail.
SELECT user_id FROM users WHERE email = $1::text
