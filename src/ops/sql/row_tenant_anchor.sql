-- Row tenancy: an empty large object owned by the tenant's `<code>_owner` in this database. A row tenant owns
-- nothing else here, and roles are cluster-wide: without an object of its own, `tenant remove` in one database
-- (DROP OWNED BY, then DROP ROLE) would drop roles another database of the cluster still gives its own tenant of the
-- same code to its logins (a membership is no dependency; an owned object is one). DROP OWNED BY takes this object
-- with it; another database's keeps the roles. A large object sits in no schema, so no blueprint's shape changes.
-- {{ owner }} is a string literal of the validated role name.
DO $anchor$
DECLARE
    anchor oid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_largeobject_metadata WHERE lomowner = {{ owner }}::regrole) THEN
        anchor := pg_catalog.lo_create(0);
        EXECUTE format('ALTER LARGE OBJECT %s OWNER TO %I', anchor, {{ owner }});
        EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', anchor,
                       'provision: keeps the roles of row tenant ' || {{ owner }} || ' while this database has it');
    END IF;
END
$anchor$
