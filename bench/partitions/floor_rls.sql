-- Prints floor.sql's statements plus the row-level security that provision
-- gives every new partition (partitions inherit neither the RLS flags nor
-- the policies of their parent): ENABLE, FORCE and a copy of each parent
-- policy. Informational: how much of provision's time is that extra work.
\ir parents.sql
SELECT stmt
FROM bench_parents p
CROSS JOIN bench_months m
CROSS JOIN LATERAL (
    SELECT 1 AS n, format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L);',
                          p.sch, p.tbl || '_p' || m.suffix, p.parent, m.lo, m.hi) AS stmt
    UNION ALL
    SELECT 2, format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY;', p.sch, p.tbl || '_p' || m.suffix) WHERE p.rls
    UNION ALL
    SELECT 3, format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY;', p.sch, p.tbl || '_p' || m.suffix) WHERE p.force_rls
    UNION ALL
    SELECT 4, format('CREATE POLICY %I ON %I.%I AS %s FOR %s TO %s%s%s;', pol.policyname, p.sch, p.tbl || '_p' || m.suffix,
                     pol.permissive, pol.cmd,
                     (SELECT string_agg(CASE r WHEN 'public' THEN 'PUBLIC' ELSE quote_ident(r) END, ', ') FROM unnest(pol.roles) AS r),
                     CASE WHEN pol.qual IS NOT NULL THEN ' USING (' || pol.qual || ')' ELSE '' END,
                     CASE WHEN pol.with_check IS NOT NULL THEN ' WITH CHECK (' || pol.with_check || ')' ELSE '' END)
    FROM pg_catalog.pg_policies pol
    WHERE p.rls AND pol.schemaname = p.sch AND pol.tablename = p.tbl
) AS s
ORDER BY p.sch, p.tbl, m.lo, s.n, s.stmt;
