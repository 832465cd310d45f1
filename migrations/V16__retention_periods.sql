-- `provision retention run` (issue 14): the periods an operator may edit, per pack, and the salts of hashed columns.
--
-- shared.data_retention_policies (V9) is keyed by the bare table name (UNIQUE), so two packs with a table of the same
-- name (claims, sessions, notifications) share one row, and the second pack's `ON CONFLICT (table_name) DO NOTHING`
-- silently keeps the first pack's period. Its key cannot change: packs' shared versions already applied (refinery
-- checksums them) run `INSERT ... ON CONFLICT (table_name)` again on every fresh database, after the core migrations,
-- and need a unique index on exactly (table_name) as their arbiter. So V9's table keeps its key and its meaning (the
-- fallback of partition retention, read by `partitions rollover`, and the core's audit_log row), and the periods of
-- `[[retention]]` rules live here, keyed by pack and rule. Each pack's newer shared version copies its own rows of
-- the V9 table (the operator's edits included) into this one: a pack knows which names it wrote there.
CREATE TABLE shared.retention_periods (
    blueprint VARCHAR(63) NOT NULL,
    -- The [[retention]] rule's name (its table's name unless the rule names itself).
    rule VARCHAR(63) NOT NULL,
    table_name VARCHAR(63) NOT NULL,
    retention_days INTEGER NOT NULL CHECK (retention_days > 0),
    description TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT now(),
    updated_at TIMESTAMP NOT NULL DEFAULT now(),
    PRIMARY KEY (blueprint, rule)
);

COMMENT ON TABLE shared.retention_periods IS
    'retention run: the period of a [[retention]] rule of a blueprint; an operator may UPDATE retention_days, the run '
    'uses it instead of blueprint.toml''s age. A missing row means blueprint.toml''s age.';

CREATE TRIGGER trg_retention_periods_set_updated_at
    BEFORE UPDATE ON shared.retention_periods
    FOR EACH ROW EXECUTE FUNCTION shared.set_updated_at();

GRANT SELECT ON shared.retention_periods TO provision_tenant_apps, provision_tenant_readers;

-- The salt of each tenant's hashed columns: random, made on the first anonymising run, kept in the database so that
-- the same value hashes alike in every run (joins and counts still work on hashed columns, and a rerun is idempotent),
-- different per tenant (no tenant's hashes can be matched against another's), and never leaves the server: the run
-- hashes in SQL (hmac-sha256), so no client, log or report ever sees it. Readable by nobody but its owner and superusers.
CREATE TABLE shared.retention_salts (
    tenant_code VARCHAR(63) PRIMARY KEY,
    salt BYTEA NOT NULL DEFAULT public.gen_random_bytes(32),
    created_at TIMESTAMP NOT NULL DEFAULT now()
);
-- No GRANT: a new table grants nothing to PUBLIC or to the tenant roles (unlike retention_periods above).
