-- bench/keys_rotate.sh: the naive rotation, one UPDATE of the whole table
-- from key :'old' to :'new' (one transaction, every row locked until it ends).
UPDATE kb_schema.people SET
    full_name = shared.encrypt(shared.decrypt(full_name, :'old'), :'new'),
    date_of_birth = shared.encrypt(shared.decrypt(date_of_birth, :'old'), :'new'),
    ssn = shared.encrypt(shared.decrypt(ssn, :'old'), :'new'),
    phone = shared.encrypt(shared.decrypt(phone, :'old'), :'new');
