-- Rows for tests/claimflow.rs in one ClaimFlow tenant schema (the test replaces S with it), written as superuser
-- (row-level security does not apply to it). Two claimants, two reviewers (one of them locked) and an admin; a claim, an
-- insurance profile, documents, a notification, a session, a timeline entry and an appeal for each claimant.
-- Personal columns hold ciphertext under a throwaway test key.
INSERT INTO S.users (id, email, password_hash, role, first_name, locked_until) VALUES
    ('00000000-0000-4000-8000-000000000001', 'u1@test.example', '!', 'claimant', shared.encrypt('Una', 'test-key-0123456789abcdef0123456789'), NULL),
    ('00000000-0000-4000-8000-000000000002', 'u2@test.example', '!', 'claimant', shared.encrypt('Dos', 'test-key-0123456789abcdef0123456789'), NULL),
    ('00000000-0000-4000-8000-000000000003', 'rev@test.example', '!', 'reviewer', NULL, NULL),
    ('00000000-0000-4000-8000-000000000004', 'locked@test.example', '!', 'reviewer', NULL, now() + interval '1 day'),
    ('00000000-0000-4000-8000-000000000005', 'boss@test.example', '!', 'admin', NULL, NULL);
INSERT INTO S.insurance_profiles (id, user_id, insurer_name, member_id, is_primary) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', 'Aetna', shared.encrypt('M1', 'test-key-0123456789abcdef0123456789'), true),
    ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-000000000002', 'Cigna', shared.encrypt('M2', 'test-key-0123456789abcdef0123456789'), true);
INSERT INTO S.claims (id, claim_number, user_id, insurance_profile_id, service_date, billed_amount, cpt_codes, icd_codes) VALUES
    ('00000000-0000-4000-8000-0000000000c1', 'T-1', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a1', '2026-01-05', 120.00, '{99213}', '{E11.9,I10}'),
    ('00000000-0000-4000-8000-0000000000c2', 'T-2', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a2', '2026-01-06', 80.00, '{85025}', '{R05.1}');
INSERT INTO S.documents (id, user_id, claim_id, document_type, file_name, mime_type, size_bytes, storage_bucket, storage_key, access_level) VALUES
    ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000c1', 'medical_bill', 'bill.jpg', 'image/jpeg', 1000, 'b', 'k1', 'owner_and_staff'),
    ('00000000-0000-4000-8000-0000000000d2', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000c1', 'other', 'note.txt', 'text/plain', 10, 'b', 'k2', 'staff_only'),
    ('00000000-0000-4000-8000-0000000000d3', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000c2', 'receipt', 'r.jpg', 'image/jpeg', 1000, 'b', 'k3', 'owner_and_staff');
INSERT INTO S.notifications (user_id, claim_id, type, title, body) VALUES
    ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000c1', 'claim_status', 't', 'b'),
    ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000c2', 'claim_status', 't', 'b');
INSERT INTO S.sessions (user_id, token_hash, expires_at) VALUES
    ('00000000-0000-4000-8000-000000000001', repeat('a', 64), now() + interval '1 hour'),
    ('00000000-0000-4000-8000-000000000002', repeat('b', 64), now() + interval '1 hour');
INSERT INTO S.claim_timeline (claim_id, to_status) VALUES
    ('00000000-0000-4000-8000-0000000000c1', 'draft'),
    ('00000000-0000-4000-8000-0000000000c2', 'draft');
INSERT INTO S.appeals (appeal_number, claim_id, user_id, reason) VALUES
    ('A-1', '00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-000000000001', 'r'),
    ('A-2', '00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-000000000002', 'r');
INSERT INTO S.audit_logs (user_id, action, entity_type, entity_id) VALUES
    ('00000000-0000-4000-8000-000000000001', 'CLAIM_CREATE', 'Claim', '00000000-0000-4000-8000-0000000000c1'),
    ('00000000-0000-4000-8000-000000000002', 'CLAIM_CREATE', 'Claim', '00000000-0000-4000-8000-0000000000c2');
