-- Applied shared migrations as 'version:checksum,...' (NULL when none), or no
-- row at all when the history table does not exist yet. Read-only: dry runs
-- and status must never create the table, which refinery's own query would.
SELECT (xpath('/row/applied/text()',
              query_to_xml('SELECT string_agg(version || '':'' || checksum, '','' ORDER BY version) AS applied
                            FROM provision.refinery_schema_history', false, true, '')))[1]::text AS applied
WHERE to_regclass('provision.refinery_schema_history') IS NOT NULL
