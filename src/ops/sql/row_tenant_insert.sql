-- Row tenancy: the tenant's row in the pack's [row] table, with the columns the tenant sets (code, name, attributes);
-- $1 is a JSON object of their values, which json_populate_record casts to the columns' own types, so a bad value is
-- the server's error naming the column. Returns the tenant's key.
INSERT INTO {{ table }} ({{ columns }})
SELECT {{ columns }} FROM pg_catalog.json_populate_record(NULL::{{ table }}, $1::json)
RETURNING {{ key }}::text
