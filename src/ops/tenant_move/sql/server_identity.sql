-- Which cluster and database a connection reaches, so a move refuses two declared servers that are one database
-- (it would drop the tenant it copies onto itself). pg_control_system needs the superuser checks::servers has checked for.
SELECT (SELECT system_identifier FROM pg_catalog.pg_control_system())::text AS cluster,
       current_database()::text AS database
