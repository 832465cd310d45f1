-- A blueprint's applied shared migrations as 'version:checksum,...' (NULL
-- when none), or no row when its history table does not exist yet. $1 is the
-- table's name in schema provision. Read-only, like shared_history.sql.
SELECT (xpath('/row/applied/text()',
              query_to_xml(format('SELECT string_agg(version || '':'' || checksum, '','' ORDER BY version) AS applied
                                   FROM provision.%I', $1::text), false, true, '')))[1]::text AS applied
WHERE to_regclass(format('provision.%I', $1::text)) IS NOT NULL
