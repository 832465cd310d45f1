-- In bulk mode foreign keys are not checked per row: for every foreign key
-- of a table the sample inserted into, one query counting the rows this
-- transaction inserted whose reference does not exist, as the per-row
-- triggers would have refused them. MATCH SIMPLE: a row with a NULL key
-- column is not checked. Referenced rows outside the tenant schema (shared
-- tables) are locked FOR KEY SHARE as the per-row checks would have; the
-- tenant's own parents are new or belong to the tenant this process holds
-- locked.
-- $1 the tables inserted into (regclass text), $2 schema name.
SELECT c.conname::text,
       format('SELECT count(*) FROM %s s WHERE s.xmin = pg_current_xact_id()::xid AND %s '
              'AND NOT EXISTS (SELECT 1 FROM %s r WHERE %s)',
              c.conrelid::regclass, string_agg(format('s.%I IS NOT NULL', a.attname), ' AND ' ORDER BY k.i),
              c.confrelid::regclass,
              string_agg(format('r.%I = s.%I', fa.attname, a.attname), ' AND ' ORDER BY k.i)) AS check_sql,
       CASE WHEN rn.nspname <> $2::text
            THEN format('SELECT 1 FROM %s r WHERE (%s) IN (SELECT %s FROM %s s WHERE s.xmin = pg_current_xact_id()::xid) '
                        'FOR KEY SHARE',
                        c.confrelid::regclass, string_agg(format('r.%I', fa.attname), ', ' ORDER BY k.i),
                        string_agg(format('s.%I', a.attname), ', ' ORDER BY k.i), c.conrelid::regclass)
       END AS lock_sql
FROM pg_constraint c
JOIN pg_class ref ON ref.oid = c.confrelid
JOIN pg_namespace rn ON rn.oid = ref.relnamespace
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, fcol, i)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol
WHERE c.contype = 'f'
  AND c.conparentid = 0
  AND c.conrelid IN (SELECT t::regclass FROM unnest($1::text[]) AS t)
GROUP BY c.oid, c.conname, c.conrelid, c.confrelid, rn.nspname
ORDER BY c.conname
