-- bench/keys_rotate.sh: :rows people, four values each, under key :'key'
-- (a throwaway bench key), from a fresh table; the tenant's key history reset.
TRUNCATE kb_schema.people;
DELETE FROM shared.tenant_keys WHERE tenant_code = 'kb';
INSERT INTO kb_schema.people (person_id, member_number, full_name, date_of_birth, ssn, phone)
SELECT g, 'M' || g,
       shared.encrypt('Person ' || g, :'key'),
       shared.encrypt((date '1950-01-01' + (g % 20000))::text, :'key'),
       shared.encrypt(lpad(g::text, 9, '0'), :'key'),
       shared.encrypt('+1 555 ' || lpad((g % 10000000)::text, 7, '0'), :'key')
FROM generate_series(1, :rows) AS g;
INSERT INTO shared.tenant_keys (tenant_code, key_id) VALUES ('kb', shared.key_id(:'key'));
