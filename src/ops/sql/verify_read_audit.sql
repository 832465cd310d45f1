-- Read auditing (src/store/read_audit.rs) for the tenants whose blueprint
-- names `[audit] reads` tables. Each row is a violation: (scope, check,
-- kind, object, problem). Without pgaudit loaded only the grants and the
-- auditor role are checked (provision warns that reads are not audited).
-- $1/$2/$3 (code, schema, table) for every read-audited table; $4 whether
-- pgaudit is loaded and $5 whether pgaudit.role names the auditor
-- (store/sql/read_audit_state.sql).
WITH wanted AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS w(code, sch, tbl)
), auditor AS (
    SELECT r.oid, r.rolcanlogin FROM pg_catalog.pg_roles r WHERE r.rolname = 'provision_auditor'
)
SELECT w.code, 'audit', 'table', w.sch || '.' || w.tbl,
       'reads are not audited: provision_auditor lacks SELECT (run `provision up`)'
FROM wanted w
JOIN pg_catalog.pg_namespace n ON n.nspname = w.sch
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.tbl
WHERE NOT EXISTS (SELECT 1 FROM auditor)
   OR NOT pg_catalog.has_table_privilege((SELECT oid FROM auditor), c.oid, 'SELECT')
UNION ALL
SELECT 'shared', 'audit', 'database', pg_catalog.current_database()::text,
       'pgaudit is loaded but this database''s pgaudit.role is not provision_auditor, so reads are not audited '
       || '(run `provision up` as a superuser, or ALTER DATABASE … SET pgaudit.role = ''provision_auditor'')'
FROM (SELECT 1) one WHERE $4::bool AND NOT $5::bool AND EXISTS (SELECT 1 FROM wanted)
UNION ALL
SELECT 'shared', 'audit', 'role', 'provision_auditor', 'does not exist (run `provision up`)'
FROM (SELECT 1) one WHERE NOT EXISTS (SELECT 1 FROM auditor) AND EXISTS (SELECT 1 FROM wanted)
UNION ALL
SELECT 'shared', 'audit', 'role', 'provision_auditor', 'can log in: it would read every read-audited table'
FROM auditor WHERE auditor.rolcanlogin
UNION ALL
SELECT 'shared', 'audit', 'role', 'provision_auditor',
       pg_catalog.pg_get_userbyid(m.member) || ' is a member: it would read every read-audited table'
FROM auditor JOIN pg_catalog.pg_auth_members m ON m.roleid = auditor.oid
