-- Whether the parents' security (owner, RLS flags, policies) is still what
-- the rollover plan saw: the plan spells each new partition's RLS and
-- policies once for the whole database, before it takes the tenants' locks,
-- so a tenant's migration that committed in between must make rollover plan
-- that tenant anew. The expression is rollover_plan.sql's `fingerprint`.
-- $1 parents (qualified names), $2 their planned fingerprints.
SELECT coalesce(bool_and(
           (SELECT md5(concat_ws('|', c2.relowner, c2.relrowsecurity, c2.relforcerowsecurity,
                                 string_agg(concat_ws(',', p.polname, p.polcmd, p.polpermissive, p.polroles, p.polqual, p.polwithcheck),
                                            ';' ORDER BY p.polname)))
            FROM pg_catalog.pg_class c2 LEFT JOIN pg_catalog.pg_policy p ON p.polrelid = c2.oid
            WHERE c2.oid = pg_catalog.to_regclass(planned.parent) GROUP BY c2.oid) IS NOT DISTINCT FROM planned.security),
       true) AS unchanged
FROM unnest($1::text[], $2::text[]) AS planned(parent, security)
