-- The tenants one server's registry holds, and their status ('moved' marks a source copy a move left behind).
SELECT tenant_code::text, status::text FROM shared.tenants ORDER BY tenant_code;
