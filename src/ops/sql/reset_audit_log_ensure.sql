-- Makes sure audit.{{ log }} exists with a DEFAULT partition before kept rows go
-- back in: `up` recreates the logs of declared tenants, but a removed
-- tenant's log (kept for retention) is recreated here, owned by
-- provision_audit and guarded like any other. {{ code }} is a string literal,
-- {{ log }} and {{ default }} quoted identifiers, all from a validated tenant code.
SELECT audit.ensure_audit_log({{ code }});
SET LOCAL ROLE provision_audit;
CREATE TABLE IF NOT EXISTS audit.{{ default }} PARTITION OF audit.{{ log }} DEFAULT;
RESET ROLE;
SELECT audit.ensure_audit_log({{ code }});
