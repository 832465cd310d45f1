-- Role memberships that involve the tenant's roles ($1: role names): login
-- roles attached with `tenant grant`, and the groups the tenant roles belong
-- to. pg_dump does not emit them and dropping the roles forgets them, so a
-- backup carries them as statements that grant each one again on restore
-- when both roles exist, and otherwise say what was skipped.
SELECT format($f$DO $grant$
BEGIN
    IF (SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname IN (%1$L, %2$L)) < 2 THEN
        RAISE WARNING 'role %% was not granted %%: a role of that name does not exist here', %1$L, %2$L;
    ELSIF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                      JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                      JOIN pg_catalog.pg_roles u ON u.oid = m.member
                      WHERE g.rolname = %2$L AND u.rolname = %1$L) THEN
        GRANT %4$I TO %3$I%5$s;
    END IF;
END
$grant$;$f$, member.rolname, grp.rolname, member.rolname, grp.rolname,
       CASE WHEN m.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END)
FROM pg_catalog.pg_auth_members m
JOIN pg_catalog.pg_roles grp ON grp.oid = m.roleid
JOIN pg_catalog.pg_roles member ON member.oid = m.member
WHERE grp.rolname = ANY ($1::text[]) OR member.rolname = ANY ($1::text[])
ORDER BY grp.rolname, member.rolname
