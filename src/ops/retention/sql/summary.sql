, summary AS (
    -- The batch's one audit row (record_id '*', as a bulk sample load writes):
    -- the rule, its age and cutoff, and the row count. Row triggers may be off
    -- (replica mode), and a per-row log of an anonymising run would keep in
    -- the audit log, for years, the personal data the run removes.
    INSERT INTO {log} (table_name, record_id, operation, new_values, transaction_id)
    SELECT {table}, '*', {operation},
           jsonb_build_object('retention', {rule}, 'action', {action}, 'age', {age}, 'cutoff', $1::text,
                              'rows', count(*)),
           txid_current()
    FROM changed
    HAVING count(*) > 0
)
