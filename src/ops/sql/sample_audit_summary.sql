-- A bulk sample load runs with row triggers off, so instead of one audit row
-- per sample row each audited table gets one row that says what was loaded:
-- operation INSERT, record_id '*', the row count and the sample's parameters
-- in new_values. The audit log is the one the table's audit trigger names.
-- $1 tables (regclass text), $2 their table names, $3 rows inserted per
-- table, $4 the load's parameters (jsonb).
SELECT format('INSERT INTO audit.%I (table_name, record_id, operation, new_values, transaction_id) '
              'VALUES (%L, ''*'', ''INSERT'', %L, txid_current())',
              split_part(encode(g.tgargs, 'escape'), '\000', 1), t.name,
              $4::jsonb || jsonb_build_object('rows', t.n))
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(tbl, name, n)
JOIN pg_catalog.pg_trigger g ON g.tgrelid = t.tbl::regclass AND g.tgname = 'audit_row_change'
WHERE t.n > 0
