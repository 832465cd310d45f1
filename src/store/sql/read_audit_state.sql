-- Whether pgaudit can audit reads here: loaded by the server, and the
-- current database's pgaudit.role (from ALTER DATABASE … SET) names
-- provision_auditor. Also whether the auditor role is sound: NOLOGIN and
-- without members.
SELECT 'pgaudit' = ANY (pg_catalog.string_to_array(
           pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ',')) AS loaded,
       EXISTS (
           SELECT 1
           FROM pg_catalog.pg_db_role_setting s
           JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
           CROSS JOIN LATERAL unnest(s.setconfig) AS c(setting)
           WHERE d.datname = pg_catalog.current_database() AND s.setrole = 0
             AND c.setting = 'pgaudit.role=provision_auditor'
       ) AS configured,
       (SELECT NOT r.rolcanlogin AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE m.roleid = r.oid)
        FROM pg_catalog.pg_roles r WHERE r.rolname = 'provision_auditor') AS auditor_sound
