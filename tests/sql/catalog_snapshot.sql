-- A text image of every user-visible catalog object outside pg_catalog /
-- information_schema, one row per fact, sorted. Tests compare these images to
-- prove "nothing changed" or "the same schema" from the catalog itself.
SELECT x FROM (
  SELECT format('%s.%s rel %s', n.nspname, c.relname, c.relkind) AS x
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT format('%s.%s col %s %s %s notnull=%s default=%s', n.nspname, c.relname, a.attnum, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT format('%s.%s con %s %s', n.nspname, c.relname, co.conname, pg_get_constraintdef(co.oid))
  FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT format('%s.%s idx %s', n.nspname, c.relname, pg_get_indexdef(i.indexrelid))
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT format('%s.%s type %s %s', n.nspname, t.typname, t.typtype,
                (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND t.typtype IN ('e', 'd', 'c', 'r')
  UNION ALL
  SELECT format('%s.%s func %s', n.nspname, p.proname, md5(regexp_replace(replace(pg_get_functiondef(p.oid), n.nspname, '<schema>'),
                                                          '[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}', '<uuid>', 'g')))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
  UNION ALL
  SELECT format('%s.%s trigger %s', n.nspname, c.relname, pg_get_triggerdef(g.oid))
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE NOT g.tgisinternal
  UNION ALL
  SELECT format('%s schema', n.nspname) FROM pg_namespace n
  WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT format('extension %s', extname) FROM pg_extension
  UNION ALL
  -- The registry, read through query_to_xml so the query also works before
  -- the shared migrations created shared.tenants.
  SELECT 'registry ' || (xpath('/row/r/text()', r))[1]::text
  FROM unnest(CASE WHEN to_regclass('shared.tenants') IS NULL THEN ARRAY[]::xml[]
                   ELSE xpath('/table/row', query_to_xml(
                     'SELECT concat_ws('' '', tenant_code, tenant_id, tenant_name, tenant_type, schema_name, blueprint, status) AS r FROM shared.tenants',
                     false, false, '')) END) AS r
) facts
ORDER BY x
