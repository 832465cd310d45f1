-- Which of the given tables can be hashed column by column with hash_record_extended and give the same hash on
-- another server: every column's type (through domains and array elements) is one whose hash depends only on its
-- value. Not enums (their hash is the label's OID, which differs between servers), OID types, composites or ranges
-- of them; such tables are hashed by their text form instead (sql/checksums.sql). $1 qualified table names.
WITH RECURSIVE cols AS (
    SELECT t.name, a.atttypid AS typ
    FROM unnest($1::text[]) AS t(name)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = t.name::regclass AND a.attnum > 0 AND NOT a.attisdropped
), base AS (
    SELECT name, typ FROM cols
    UNION
    SELECT b.name, CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.typelem END
    FROM base b JOIN pg_catalog.pg_type ty ON ty.oid = b.typ
    WHERE ty.typtype = 'd' OR (ty.typelem <> 0 AND ty.typsubscript = 'pg_catalog.array_subscript_handler'::regproc)
)
SELECT t.name,
       coalesce(bool_and(ty.typtype = 'd'
                         OR (ty.typelem <> 0 AND ty.typsubscript = 'pg_catalog.array_subscript_handler'::regproc)
                         OR ty.oid = ANY (ARRAY['bool', 'int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'text',
                                                'varchar', 'bpchar', 'bytea', 'uuid', 'date', 'time', 'timestamp',
                                                'timestamptz', 'interval', 'jsonb', 'inet', 'cidr', 'macaddr']
                                               ::regtype[]::oid[])), true) AS hashable
FROM unnest($1::text[]) AS t(name)
LEFT JOIN base b ON b.name = t.name
LEFT JOIN pg_catalog.pg_type ty ON ty.oid = b.typ
GROUP BY t.name
