-- Role memberships that open a way out of a tenant, for every tenant at once.
-- By design a tenant role is a member of exactly one role: its group
-- (<code>_owner of provision_tenant_owners, _app of provision_tenant_apps,
-- _ro of provision_tenant_readers). A member can SET ROLE to any role it
-- reaches, whatever INHERIT says, so every path counts. A path is a finding
-- when it reaches:
--   * a role of another tenant, or another role of the same tenant;
--   * a group role other than the role's own;
--   * a role that is superuser, BYPASSRLS or CREATEROLE (CREATEROLE can
--     grant itself any tenant's role);
--   * a predefined role that reads or writes every table or the server.
-- Tenant roles are cluster-wide: besides the checked tenants' roles, any
-- member of a group role named like one is recognised (tenants not checked
-- now, or of another database). Each row: (scope, check, kind, object,
-- problem); the scope is the member's tenant when it is checked, else the
-- reached role's. $1 codes being checked.
WITH kinds(suffix, grp) AS (
    VALUES ('_owner', 'provision_tenant_owners'), ('_app', 'provision_tenant_apps'), ('_ro', 'provision_tenant_readers')
), named AS (
    SELECT code, code || k.suffix AS role, k.suffix FROM unnest($1::text[]) AS code, kinds k
), tenant_roles AS (
    SELECT a.oid, a.rolname::text AS role, n.code, n.suffix
    FROM named n JOIN pg_catalog.pg_roles a ON a.rolname = n.role
    UNION
    SELECT a.oid, a.rolname::text, left(a.rolname, -length(k.suffix)), k.suffix
    FROM kinds k
    JOIN pg_catalog.pg_roles g ON g.rolname = k.grp
    JOIN pg_catalog.pg_auth_members m ON m.roleid = g.oid
    JOIN pg_catalog.pg_roles a ON a.oid = m.member AND right(a.rolname, length(k.suffix)) = k.suffix
), paths AS (
    -- (holder, reached, roles passed on the way), every path of one or more
    -- hops. A path ends at a tenant role: what lies beyond is that role's own
    -- finding, so one wrong GRANT is reported once per member, not per hop.
    WITH RECURSIVE chain(holder, reached, via) AS (
        SELECT tr.oid, m.roleid, ARRAY[]::oid[]
        FROM tenant_roles tr JOIN pg_catalog.pg_auth_members m ON m.member = tr.oid
        UNION ALL
        SELECT chain.holder, m.roleid, chain.via || chain.reached
        FROM chain JOIN pg_catalog.pg_auth_members m ON m.member = chain.reached
        WHERE NOT EXISTS (SELECT 1 FROM tenant_roles tr WHERE tr.oid = chain.reached)
    )
    SELECT * FROM chain
), judged AS (
    SELECT h.code AS holder_code, h.role AS holder, p.via, r.rolname::text AS reached, other.code AS reached_code,
           CASE
               WHEN other.code IS NOT NULL AND other.code <> h.code THEN 'another tenant''s role'
               WHEN other.code IS NOT NULL THEN 'another role of the same tenant'
               WHEN r.rolsuper OR r.rolbypassrls OR r.rolcreaterole
                   THEN 'a role that is ' || concat_ws(', ', CASE WHEN r.rolsuper THEN 'superuser' END,
                                                     CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
                                                     CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END)
               WHEN r.rolname IN ('pg_read_all_data', 'pg_write_all_data', 'pg_read_server_files',
                                  'pg_write_server_files', 'pg_execute_server_program')
                   THEN 'a predefined role that reaches every tenant''s data'
               WHEN r.rolname IN (SELECT grp FROM kinds) AND r.rolname <> (SELECT grp FROM kinds WHERE suffix = h.suffix)
                   THEN 'the group role of another kind of tenant role'
           END AS why
    FROM paths p
    JOIN tenant_roles h ON h.oid = p.holder
    JOIN pg_catalog.pg_roles r ON r.oid = p.reached
    LEFT JOIN tenant_roles other ON other.oid = p.reached
)
SELECT DISTINCT ON (scope, holder, reached)
       CASE WHEN holder_code = ANY ($1::text[]) THEN holder_code ELSE reached_code END AS scope,
       'roles', 'role', holder,
       'is a member of ' || reached
           || CASE WHEN cardinality(via) > 0
                   THEN ' (through ' || (SELECT string_agg(v.oid::regrole::text, ' → ' ORDER BY v.n)
                                        FROM unnest(via) WITH ORDINALITY AS v(oid, n)) || ')'
                   ELSE '' END
           || ', ' || why || ': ' || holder || ' can SET ROLE ' || reached || ' and use its privileges'
FROM judged
WHERE why IS NOT NULL AND (holder_code = ANY ($1::text[]) OR reached_code = ANY ($1::text[]))
ORDER BY scope, holder, reached, cardinality(via)
