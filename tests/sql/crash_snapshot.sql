-- What a crash could leave different from an uninterrupted run, beyond the
-- object list of catalog_snapshot.sql (which the crash suite adds to this):
-- trigger enabled state, RLS flags, policies, owners and ACLs, tenant role
-- memberships, rows per table (administrator, seeded rows, audit rows),
-- provision's registry configuration rows, leftover advisory locks and
-- INVALID indexes. One row per fact, sorted, comparable across databases.
SELECT x FROM (
  SELECT format('%s.%s trigger %s enabled=%s', n.nspname, c.relname, g.tgname, g.tgenabled) AS x
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE NOT g.tgisinternal
  UNION ALL
  SELECT format('%s.%s rls=%s force=%s owner=%s acl=%s', n.nspname, c.relname, c.relrowsecurity,
                c.relforcerowsecurity, pg_get_userbyid(c.relowner), c.relacl)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  UNION ALL
  SELECT format('%s.%s policy %s permissive=%s cmd=%s roles=%s using=%s check=%s', n.nspname, c.relname, p.polname,
                p.polpermissive, p.polcmd,
                (SELECT string_agg(CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r) END, ',' ORDER BY 1)
                 FROM unnest(p.polroles) AS r),
                pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  UNION ALL
  SELECT format('%s schema owner=%s acl=%s', n.nspname, pg_get_userbyid(n.nspowner), n.nspacl)
  FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT format('%s.%s function owner=%s acl=%s', n.nspname, p.proname, pg_get_userbyid(p.proowner), p.proacl)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT format('default acl %s %s %s %s', pg_get_userbyid(d.defaclrole), n.nspname, d.defaclobjtype, d.defaclacl)
  FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
  UNION ALL
  -- Roles are cluster-wide: only the memberships of this database's tenants.
  SELECT format('member %s of %s', pg_get_userbyid(m.member), pg_get_userbyid(m.roleid))
  FROM pg_auth_members m
  WHERE EXISTS (SELECT 1 FROM pg_namespace n
                WHERE n.nspname LIKE '%\_schema'
                  AND pg_get_userbyid(m.member) IN (replace(n.nspname, '_schema', '_owner'),
                                                    replace(n.nspname, '_schema', '_app'),
                                                    replace(n.nspname, '_schema', '_ro')))
  UNION ALL
  SELECT format('%s.%s invalid index', n.nspname, c.relname)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE NOT i.indisvalid
  UNION ALL
  SELECT format('advisory locks held: %s', count(*))
  FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL
  -- Rows of every table outside the system (partitioned parents count their
  -- partitions): the administrator, seeded rows, audit rows.
  SELECT format('%s.%s rows %s', n.nspname, c.relname,
                (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname),
                                                     false, true, '')))[1]::text)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'provision')
    AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND NOT (n.nspname = 'shared' AND c.relname = 'backup_history')
  UNION ALL
  SELECT format('registry config %s', (xpath('/row/r/text()', r))[1]::text)
  FROM unnest(CASE WHEN to_regclass('shared.tenant_config') IS NULL THEN ARRAY[]::xml[]
                   ELSE xpath('/table/row', query_to_xml(
                     'SELECT t.tenant_code || '' '' || c.config_key || '' '' || c.config_value AS r
                      FROM shared.tenant_config c JOIN shared.tenants t ON t.tenant_id = c.tenant_id',
                     false, false, '')) END) AS r
) facts
ORDER BY x
