-- Any privilege a tenant's role holds on another tenant's schema or its tables
-- (there must be none). Tenants are the registered ones of this database.
WITH t AS (SELECT tenant_code AS code, schema_name FROM shared.tenants),
     r AS (SELECT t.code, t.code || suffix AS role FROM t, unnest(ARRAY['_owner', '_app', '_ro']) AS suffix)
SELECT r.role || ' on schema ' || other.schema_name
FROM r JOIN t other ON other.code <> r.code
WHERE has_schema_privilege(r.role, other.schema_name, 'USAGE') OR has_schema_privilege(r.role, other.schema_name, 'CREATE')
UNION ALL
SELECT r.role || ' on ' || c.oid::regclass::text
FROM r JOIN t other ON other.code <> r.code
JOIN pg_namespace n ON n.nspname = other.schema_name
JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm')
WHERE has_table_privilege(r.role, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
