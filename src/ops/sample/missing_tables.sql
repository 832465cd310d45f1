-- Which of the tables the sample fills do not exist in the tenant schema.
-- $1 schema name, $2 table names.
SELECT t
FROM unnest($2::text[]) AS t
WHERE to_regclass(format('%I.%I', $1::text, t)) IS NULL
