-- What tests/sql/catalog_snapshot.sql leaves out and a layout move must keep
-- too: owners and privileges of schemas, relations and functions, policies
-- with their RLS flags, comments, and the rows of the retention policies.
SELECT x FROM (
  SELECT format('%s schema owner %s acl %s', nspname, nspowner::regrole, nspacl) AS x
  FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
  UNION ALL
  SELECT format('%s.%s owner %s acl %s', n.nspname, c.relname, c.relowner::regrole, c.relacl)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT format('%s.%s(%s) owner %s acl %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                p.proowner::regrole, p.proacl)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT format('%s.%s policy %s permissive=%s cmd=%s roles=%s using=%s check=%s rls=%s force=%s', n.nspname, c.relname,
                p.polname, p.polpermissive, p.polcmd, p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid),
                pg_get_expr(p.polwithcheck, p.polrelid), c.relrowsecurity, c.relforcerowsecurity)
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  UNION ALL
  SELECT format('%s.%s rls=%s force=%s', n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT format('comment %s %s %s %s', d.classoid::regclass,
                CASE WHEN d.classoid = 'pg_class'::regclass THEN d.objoid::regclass::text END, d.objsubid, d.description)
  FROM pg_description d WHERE d.objoid >= 16384
  UNION ALL
  SELECT format('member %s of %s', m.member::regrole, m.roleid::regrole)
  FROM pg_auth_members m
  WHERE m.member::regrole::text ~ '^(provision_|[a-z][a-z0-9_]*_(owner|app|ro)$)'
  UNION ALL
  SELECT 'retention ' || (xpath('/row/r/text()', r))[1]::text
  FROM unnest(CASE WHEN to_regclass('shared.data_retention_policies') IS NULL THEN ARRAY[]::xml[]
                   ELSE xpath('/table/row', query_to_xml(
                     'SELECT concat_ws('' '', table_name, retention_days, archive_before_delete, description) AS r
                      FROM shared.data_retention_policies', false, false, '')) END) AS r
) facts
ORDER BY x
