-- Sample users (agents first, then policyholders); field order = people::user.
-- tenant_id and the remaining columns keep their defaults.
COPY seed_users (user_id, email, phone_number, username, password_hash, first_name, last_name, display_name,
                 date_of_birth, gender, address, language_preference, email_verified, phone_verified, role, status,
                 last_login_at, created_at)
FROM STDIN
