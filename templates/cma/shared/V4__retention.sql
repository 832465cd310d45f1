-- The conditions of blueprint.toml's [[retention]] rules, as functions of the row's own key: a rule's condition is
-- plain SQL over its table's columns, and these say what the document's periods are measured against.

-- Whether a case is over (closed, cancelled or referred on): its financial rows may then age out.
CREATE FUNCTION cma.case_finished(case_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$ SELECT EXISTS (SELECT 1 FROM cma.cases c WHERE c.id = case_id AND c.status IN ('closed', 'cancelled', 'referred')) $$;

-- Whether the case a creditor belongs to is over (debts age out with their creditor's case).
CREATE FUNCTION cma.creditor_case_finished(creditor_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$ SELECT EXISTS (SELECT 1 FROM cma.creditors r WHERE r.id = creditor_id AND cma.case_finished(r.case_id)) $$;

-- Whether a client has no case still going: their personal data may then be anonymised once its period has passed.
CREATE FUNCTION cma.client_dormant(client_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT NOT EXISTS (SELECT 1 FROM cma.cases c
                       WHERE c.client_id = client_dormant.client_id AND c.status IN ('open', 'in_progress'))
$$;

GRANT EXECUTE ON FUNCTION cma.case_finished(integer), cma.creditor_case_finished(integer), cma.client_dormant(integer)
    TO provision_tenant_apps, provision_tenant_readers;
