-- The health-insurance blueprint's once-per-database part: the retention periods of seed 002 "Data Retention Policy"
-- for its tables that are not time-partitioned. Nothing here names a tenant; the pack has no reference data.
--
-- Partitioned tables (audit_logs, notifications) carry their retention in blueprint.toml, which `provision partitions
-- rollover` enforces by releasing whole months. The tables below are kept as the document says, and nothing in
-- provision deletes their rows: shared.data_retention_policies records the period for whatever enforces retention
-- (an archive job, a review), keyed by the unqualified table name (core V9).
-- seed: "Members: While active + 7 years, soft delete with retention" and "Claims: move to cold storage after 2 years"
-- are not expressible as one period; recorded as 7 years, archived before delete.
-- DO NOTHING: a period an operator changed later must never be reset, and another blueprint may have recorded the
-- same table name first.
INSERT INTO shared.data_retention_policies (table_name, retention_days, archive_before_delete, description)
VALUES
    ('claims',   2555, true,  'Claims: 7 years, cold storage after 2 years (seed 002)'),
    ('policies', 2555, true,  'Policies: 7 years, archived permanently (seed 002)'),
    ('members',  2555, true,  'Members: while active + 7 years, soft delete with retention (seed 002)'),
    ('payments', 2555, true,  'Payments: 7 years, financial compliance (seed 002)'),
    ('sessions',   30, false, 'Sessions: 30 days, expired sessions cleaned up (seed 002)')
ON CONFLICT (table_name) DO NOTHING;
