-- The subscription on the target, copying the existing rows first (copy_data) through the slot made on the source.
-- $1 subscription (also the publication's and slot's name), $2 the source's conninfo (it holds the password: this
-- statement is never printed, and the catalog keeps it only until the move drops the subscription).
SELECT format('CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION %I '
              'WITH (create_slot = false, slot_name = %L, copy_data = true)', $1::text, $2::text, $1::text, $1::text)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s
                  JOIN pg_catalog.pg_database d ON d.oid = s.subdbid AND d.datname = current_database()
                  WHERE s.subname = $1)
