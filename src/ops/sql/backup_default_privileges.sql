-- Default privileges of the tenant's roles ($1: role names) that are not tied
-- to a schema (ALTER DEFAULT PRIVILEGES FOR ROLE r without IN SCHEMA), as
-- statements for a backup. pg_dump --schema emits only the schema-scoped
-- ones, and dropping the roles forgets these. Each entry is compared with
-- the built-in default (acldefault): what it lacks is revoked, what it adds
-- is granted.
WITH entries AS (
    SELECT d.defaclrole, d.defaclacl,
           CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END AS objects,
           pg_catalog.acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole) AS builtin
    FROM pg_catalog.pg_default_acl d
    JOIN pg_catalog.pg_roles r ON r.oid = d.defaclrole
    WHERE d.defaclnamespace = 0 AND r.rolname = ANY ($1::text[])
), changes AS (
    SELECT e.defaclrole, e.objects, 1 AS ord, 'REVOKE' AS verb, b.grantee, b.privilege_type, false AS grantable
    FROM entries e CROSS JOIN LATERAL pg_catalog.aclexplode(e.builtin) AS b
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(e.defaclacl) AS a
                      WHERE a.grantee = b.grantee AND a.privilege_type = b.privilege_type)
    UNION ALL
    SELECT e.defaclrole, e.objects, 2, 'GRANT', a.grantee, a.privilege_type, a.is_grantable
    FROM entries e CROSS JOIN LATERAL pg_catalog.aclexplode(e.defaclacl) AS a
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(e.builtin) AS b
                      WHERE b.grantee = a.grantee AND b.privilege_type = a.privilege_type
                        AND b.is_grantable = a.is_grantable)
)
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I %s %s ON %s %s %s%s;',
              pg_catalog.pg_get_userbyid(c.defaclrole), c.verb, c.privilege_type, c.objects,
              CASE c.verb WHEN 'GRANT' THEN 'TO' ELSE 'FROM' END,
              CASE c.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(c.grantee)) END,
              CASE WHEN c.grantable THEN ' WITH GRANT OPTION' ELSE '' END)
FROM changes c
ORDER BY pg_catalog.pg_get_userbyid(c.defaclrole), c.objects, c.ord, c.privilege_type, c.grantee
