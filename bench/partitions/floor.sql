-- Prints the floor's script: one `CREATE TABLE … PARTITION OF … FOR VALUES
-- FROM … TO …` per parent and month, with provision's names and bounds.
\ir parents.sql
SELECT format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L);',
              p.sch, p.tbl || '_p' || m.suffix, p.parent, m.lo, m.hi)
FROM bench_parents p CROSS JOIN bench_months m
ORDER BY p.sch, p.tbl, m.lo;
