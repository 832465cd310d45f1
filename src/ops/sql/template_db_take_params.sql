-- What template_db_take.sql takes, sent just before it in the same flight
-- (a DO block takes no parameters): $1 the spares' prefix
-- ('provision_tpl_<hash>_spare_'), $2 the new database's name, $3 the
-- comment that marks it as made by `db create`.
SELECT pg_catalog.set_config('provision.take_prefix', $1::text, false),
       pg_catalog.set_config('provision.take_name', $2::text, false),
       pg_catalog.set_config('provision.take_comment', $3::text, false)
