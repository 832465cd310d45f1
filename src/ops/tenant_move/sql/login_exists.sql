-- Whether a LOGIN role of this name exists on this server. $1 the name.
SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $1 AND rolcanlogin)
