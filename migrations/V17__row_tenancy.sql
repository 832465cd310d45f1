-- Row tenancy (issue 14): a row-tenancy pack keeps every tenant's rows in one set of tables, told apart by a tenant
-- column that its restrictive policies compare with a per-transaction setting. The setting alone is not enough: any
-- login could set another tenant's id. So a pack's policy on its tenant table also asks this function whether the
-- current role is a member of that tenant's `<code>_app` or `<code>_ro` role (made by `tenant add` for row tenants
-- as for schema tenants, and granted to logins by `tenant grant`). The naming of those roles is the core's, so the
-- check is the core's too; a pack calls it, it never names a pack's table. A tenant that is not active in the registry
-- (`tenant remove --keep-data`) is acted for by nobody until `tenant activate`: its rows stay, unreadable.

-- Whether `code` is an active tenant. SECURITY DEFINER: application roles cannot read the registry themselves.
CREATE OR REPLACE FUNCTION shared.tenant_active(code text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog
AS $$
    SELECT EXISTS (SELECT 1 FROM shared.tenants t WHERE t.tenant_code = code AND t.status = 'active')
$$;

CREATE OR REPLACE FUNCTION shared.tenant_role_member(code text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
    SET search_path = pg_catalog
AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_catalog.pg_roles r
        WHERE r.rolname IN (code || '_app', code || '_ro')
          AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
       AND shared.tenant_active(code)
$$;

COMMENT ON FUNCTION shared.tenant_role_member(text) IS
    'Row tenancy: whether the current role may act for tenant `code` (a member of <code>_app or <code>_ro, and the tenant active).';

REVOKE ALL ON FUNCTION shared.tenant_role_member(text), shared.tenant_active(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shared.tenant_role_member(text), shared.tenant_active(text)
    TO provision_tenant_owners, provision_tenant_apps, provision_tenant_readers;
