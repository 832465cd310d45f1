-- What template_db_take.sql takes, sent just before it in the same flight
-- (a DO block takes no parameters): $1 a prefix of the spares' names
-- ('provision_tpl_<hash>_spare_', or 'provision_tpl_' for any template's),
-- $2 the new database's name, $3 the start of the comment a spare must
-- carry ('' for any; else 'provision spare: quick <fingerprint>; periods ',
-- which the block completes with the current periods), $4 the start of the
-- comment that marks a clone ('provision db create: template ').
SELECT pg_catalog.set_config('provision.take_prefix', $1::text, false),
       pg_catalog.set_config('provision.take_name', $2::text, false),
       pg_catalog.set_config('provision.take_label', $3::text, false),
       pg_catalog.set_config('provision.take_clone', $4::text, false)
