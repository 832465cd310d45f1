-- Row tenancy (issue 14): a row-tenancy pack keeps every tenant's rows in one set of tables, told apart by a tenant
-- column that its restrictive policies compare with a per-transaction setting. The setting alone is not enough: any
-- login could set another tenant's id. So a pack's policy on its tenant table also asks this function whether the
-- current role is a member of that tenant's `<code>_app` or `<code>_ro` role (made by `tenant add` for row tenants
-- as for schema tenants, and granted to logins by `tenant grant`). The naming of those roles is the core's, so the
-- check is the core's too; a pack calls it, it never names a pack's table.
CREATE FUNCTION shared.tenant_role_member(code text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
    SET search_path = pg_catalog
AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_catalog.pg_roles r
        WHERE r.rolname IN (code || '_app', code || '_ro')
          AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
$$;

COMMENT ON FUNCTION shared.tenant_role_member(text) IS
    'Row tenancy: whether the current role may act for tenant `code` (a member of <code>_app or <code>_ro).';

REVOKE ALL ON FUNCTION shared.tenant_role_member(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shared.tenant_role_member(text)
    TO provision_tenant_owners, provision_tenant_apps, provision_tenant_readers;
