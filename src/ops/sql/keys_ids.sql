-- The ids of the old and new keys ($1, $2: the keys, bind parameters only),
-- as the envelopes name them (core V14, shared.key_id).
SELECT shared.key_id($1::text) AS from_id, shared.key_id($2::text) AS to_id
