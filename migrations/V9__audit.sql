-- Seed 001 §4.1 "Row-Level Security" / §4.2 "Audit & Compliance" made database-wide, seed 000 data_retention_policies,
-- seed 002 "Data Retention Policy".
-- Runs once per database as the provisioner (superuser), in one transaction, like every migration.
--
-- Split (issue 12, blueprint packs): until then this file also held the shipped blueprint's part (RLS and encryption
-- of its shared tables, retention rows naming its tables). That part moved to templates/agent_mitra/shared/V6, which a
-- database made before records as part of this version; `up` re-records it there and updates this version's checksum.
--
-- Session settings convention (every policy and the audit trigger read these and only these):
--   app.tenant_id    the tenant's UUID (shared.tenants.tenant_id)
--   app.user_id      the acting user's UUID (tenant schema: users.user_id; a blueprint's shared tables: their user id)
--   app.session_id   the acting session's UUID (audit only)
--   app.user_agent   the end user's user agent (audit only)
--   app.user_role    the application's role name (a blueprint's access policies may read it)
-- The application sets them per transaction: SELECT set_config('app.tenant_id', $1, true) (or SET LOCAL).
-- They are read as nullif(current_setting('app.tenant_id', true), '')::uuid: an unset or empty setting reads as NULL,
-- so a policy admits zero rows (and rejects every write) instead of raising an error.
--
-- Roles (cluster-wide, NOLOGIN, created idempotently here because a second database of the cluster runs this again):
--   provision_audit          owns the audit machinery: the SECURITY DEFINER functions below and every audit.<code>_audit_log
--   provision_tenant_owners  group of every <code>_owner role (granted by provision); may EXECUTE ensure_audit_log and
--                            log_row_change and has USAGE on schema audit, nothing else in it
-- The audit log is append-only for everybody: tenant roles have no privilege on it, and guard triggers reject
-- UPDATE, DELETE and TRUNCATE even for its owner. Retention removes whole monthly partitions (DROP/DETACH), which


DO $$
BEGIN
    CREATE ROLE provision_audit NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created by another database of this cluster (unique_violation: concurrently)
END
$$;

DO $$
BEGIN
    CREATE ROLE provision_tenant_owners NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

-- provision_audit creates the tenants' audit logs (through ensure_audit_log) and their partitions in schema audit.
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA audit TO provision_audit;
-- Tenant owners need USAGE to name audit.log_row_change in CREATE TRIGGER and to call audit.ensure_audit_log.
GRANT USAGE ON SCHEMA audit TO provision_tenant_owners;

-- ---------------------------------------------------------------------------
-- Append-only guard
-- ---------------------------------------------------------------------------

-- BEFORE UPDATE OR DELETE (row) and BEFORE TRUNCATE (statement) trigger of every audit log and its partitions.
CREATE FUNCTION audit.forbid_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only'
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('%s on %I.%I is not allowed.', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME),
              HINT = 'Old audit rows leave the log only when retention drops a whole partition.';
END;
$$;

ALTER FUNCTION audit.forbid_change() OWNER TO provision_audit;
REVOKE ALL ON FUNCTION audit.forbid_change() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Per-tenant audit log
-- ---------------------------------------------------------------------------

-- seed: CREATE TABLE audit.lic_audit_log written out per tenant; one SECURITY DEFINER function creates audit."<code>_audit_log"
-- so that it is owned by provision_audit, not by the tenant whose changes it records (a tenant template runs as the tenant owner).
-- It creates no partition: provision creates the DEFAULT and the monthly partitions (as provision_audit) right after, because
-- partition bounds depend on the date. Calling it again is harmless: it only adds the TRUNCATE guard to partitions that lack it
-- (statement-level triggers are not cloned onto partitions), so provision may call it again after creating partitions.
-- Any tenant owner may call it, for any code: it can only ever create an empty log that the caller cannot touch.
CREATE FUNCTION audit.ensure_audit_log(code text)
RETURNS regclass
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    log_name text;
    log_rel regclass;
    part regclass;
BEGIN
    -- <code>_audit_log must fit the 63-byte identifier limit without truncation
    IF code IS NULL OR code !~ '^[a-z][a-z0-9_]*$' OR length(code) > 53 THEN
        RAISE EXCEPTION 'invalid tenant code %', coalesce(quote_literal(code), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A code matches ^[a-z][a-z0-9_]*$ and has at most 53 characters.';
    END IF;
    log_name := code || '_audit_log';
    log_rel := to_regclass(format('audit.%I', log_name));

    IF log_rel IS NULL THEN
        -- seed: audit_id UUID PRIMARY KEY; a partitioned table's primary key must include the partition key, so (audit_id, "timestamp")
        -- seed: record_id UUID NOT NULL; tenant primary keys are not all one UUID column (e.g. (event_id, "timestamp")), so the key is TEXT:
        --       the value of a one-column key as text, or a JSON object {"column": value, ...} for a composite key
        -- seed: no transaction_id; added so the rows of one transaction can be grouped (txid_current(), epoch-extended bigint)
        -- seed: "timestamp" TIMESTAMP DEFAULT NOW() (session-local time); NOT NULL as the partition key, and UTC wall-clock time
        --       (TIMESTAMP, like every table of the blueprint, but never dependent on the writer's TimeZone setting)
        EXECUTE format($ddl$
            CREATE TABLE audit.%I (
                audit_id UUID NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
                table_name VARCHAR(100) NOT NULL,
                record_id TEXT NOT NULL,
                operation VARCHAR(10) NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
                old_values JSONB,
                new_values JSONB,
                user_id UUID,
                session_id UUID,
                ip_address INET,
                user_agent TEXT,
                transaction_id BIGINT,
                "timestamp" TIMESTAMP NOT NULL DEFAULT (pg_catalog.now() AT TIME ZONE 'UTC'),
                compliance_category VARCHAR(50),
                retention_period_days INTEGER DEFAULT 2555,
                PRIMARY KEY (audit_id, "timestamp")
            ) PARTITION BY RANGE ("timestamp")
        $ddl$, log_name);
        log_rel := format('audit.%I', log_name)::regclass;

        -- Index names are left to PostgreSQL, which keeps them within 63 bytes for the longest code.
        EXECUTE format('CREATE INDEX ON %s (table_name, record_id)', log_rel);
        EXECUTE format('CREATE INDEX ON %s ("timestamp")', log_rel);

        EXECUTE format('CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION audit.forbid_change()', log_rel);
        EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit.forbid_change()', log_rel);

        EXECUTE format('REVOKE ALL ON TABLE %s FROM PUBLIC', log_rel);
    ELSIF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partitioned_table WHERE partrelid = log_rel) THEN
        RAISE EXCEPTION '% exists but is not a partitioned audit log', log_rel
            USING ERRCODE = 'wrong_object_type';
    END IF;

    -- Row triggers are cloned onto partitions by PostgreSQL; the statement-level TRUNCATE guard is not.
    FOR part IN
        SELECT t.relid
        FROM pg_catalog.pg_partition_tree(log_rel) AS t
        WHERE t.relid <> log_rel
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                          WHERE g.tgrelid = t.relid AND g.tgname = 'audit_no_truncate')
    LOOP
        EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit.forbid_change()', part);
    END LOOP;

    RETURN log_rel;
END;
$$;

ALTER FUNCTION audit.ensure_audit_log(text) OWNER TO provision_audit;
REVOKE ALL ON FUNCTION audit.ensure_audit_log(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.ensure_audit_log(text) TO provision_tenant_owners;

-- ---------------------------------------------------------------------------
-- Generic row-change audit trigger
-- ---------------------------------------------------------------------------

-- seed: audit.audit_trigger_function() wrote to audit.lic_audit_log only, keyed by NEW.id / OLD.id (no such column on these
-- tables), and cast the settings with ::UUID (a malformed app.user_id made the application's write fail). One generic function:
--   CREATE TRIGGER audit_row_change AFTER INSERT OR UPDATE OR DELETE ON <code>_schema.<table>
--       FOR EACH ROW EXECUTE FUNCTION audit.log_row_change('<code>_audit_log', '<pk column>' [, '<pk column>' ...]);
-- TG_ARGV[0] is the audit log in schema audit; it must be the log of the table's own tenant (<code>_schema -> <code>_audit_log),
-- so a tenant owner cannot write into another tenant's log. TG_ARGV[1..] are the primary-key columns, in key order.
-- SECURITY DEFINER (owner provision_audit): the log is writable by nobody else.
-- table_name is the unqualified name of the table the trigger is defined on: for a row of a partition (the trigger is
-- cloned there) it is the partitioned root's name, as blueprint.toml and shared.data_retention_policies name tables.
-- user_id / session_id: a setting that is not a UUID in the canonical (or 32-hex-digit) form is recorded as NULL rather
-- than failing the audited write. ip_address is inet_client_addr(): the database client (the application server), NULL
-- over a Unix socket. "timestamp" is clock_timestamp() in UTC: the time of the change itself (now() would give every row
-- of a transaction its start time); transaction_id groups the rows of one transaction.
-- seed: compliance_category was never set by the trigger either; it stays NULL (retention_period_days takes its default).
-- seed: old/new values were the whole row; live credentials (password_hash, password_salt, session_token, refresh_token,
-- email_verification_token, password_reset_token) are recorded as 'sha256:<hex>' of their value instead, so the log shows
-- that they changed without keeping usable secrets for 7 years. Encrypted columns are logged as they are (ciphertext).
CREATE FUNCTION audit.log_row_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    uuid_re CONSTANT text := '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$';
    secret_columns CONSTANT text[] := ARRAY['password_hash', 'password_salt', 'session_token', 'refresh_token',
                                            'email_verification_token', 'password_reset_token'];
    log_name text := TG_ARGV[0];
    col text;
    root regclass;
    tbl text;
    old_row jsonb;
    new_row jsonb;
    key_row jsonb;
    key_obj jsonb := '{}'::jsonb;
    rec_id text;
    setting text;
    uid uuid;
    sid uuid;
    i integer;
BEGIN
    IF TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'ROW' THEN
        RAISE EXCEPTION 'audit.log_row_change() must be an AFTER ... FOR EACH ROW trigger (on %.%)', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF TG_NARGS < 2 OR log_name IS NULL OR log_name !~ '^[a-z][a-z0-9_]*_audit_log$' THEN
        RAISE EXCEPTION 'audit.log_row_change(log_table, pk_column, ...) is misconfigured on %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF TG_TABLE_SCHEMA !~ '^[a-z][a-z0-9_]*_schema$'
       OR log_name <> regexp_replace(TG_TABLE_SCHEMA, '_schema$', '') || '_audit_log' THEN
        RAISE EXCEPTION 'audit log % does not belong to schema %', log_name, TG_TABLE_SCHEMA
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    root := pg_catalog.pg_partition_root(TG_RELID); -- NULL for a table outside any partition tree
    IF root IS NULL OR root = TG_RELID THEN
        tbl := TG_TABLE_NAME;
    ELSE
        SELECT c.relname INTO tbl FROM pg_catalog.pg_class c WHERE c.oid = root;
    END IF;

    IF TG_OP = 'INSERT' THEN
        new_row := to_jsonb(NEW);
        key_row := new_row;
    ELSIF TG_OP = 'UPDATE' THEN
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
        key_row := new_row; -- as the seed's COALESCE(NEW.id, OLD.id); old_values holds the old key if it changed
    ELSE
        old_row := to_jsonb(OLD);
        key_row := old_row;
    END IF;

    FOREACH col IN ARRAY secret_columns LOOP
        IF old_row ->> col IS NOT NULL THEN
            old_row := jsonb_set(old_row, ARRAY[col], to_jsonb('sha256:' || encode(sha256(convert_to(old_row ->> col, 'UTF8')), 'hex')));
        END IF;
        IF new_row ->> col IS NOT NULL THEN
            new_row := jsonb_set(new_row, ARRAY[col], to_jsonb('sha256:' || encode(sha256(convert_to(new_row ->> col, 'UTF8')), 'hex')));
        END IF;
    END LOOP;

    FOR i IN 1 .. TG_NARGS - 1 LOOP
        IF NOT key_row ? TG_ARGV[i] THEN
            RAISE EXCEPTION 'audit.log_row_change: %.% has no column %', TG_TABLE_SCHEMA, TG_TABLE_NAME, quote_ident(TG_ARGV[i])
                USING ERRCODE = 'undefined_column';
        END IF;
        key_obj := key_obj || jsonb_build_object(TG_ARGV[i], key_row -> TG_ARGV[i]);
    END LOOP;
    IF TG_NARGS = 2 THEN
        rec_id := key_row ->> TG_ARGV[1];
    ELSE
        rec_id := key_obj::text;
    END IF;

    setting := nullif(current_setting('app.user_id', true), '');
    IF setting ~ uuid_re THEN
        uid := setting::uuid;
    END IF;
    setting := nullif(current_setting('app.session_id', true), '');
    IF setting ~ uuid_re THEN
        sid := setting::uuid;
    END IF;

    EXECUTE format(
        'INSERT INTO audit.%I (table_name, record_id, operation, old_values, new_values, user_id, session_id, '
        'ip_address, user_agent, transaction_id, "timestamp") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
        log_name)
    USING tbl, rec_id, TG_OP, old_row, new_row, uid, sid,
          inet_client_addr(), nullif(current_setting('app.user_agent', true), ''),
          txid_current(), clock_timestamp() AT TIME ZONE 'UTC';

    RETURN NULL; -- AFTER trigger: the result is ignored
END;
$$;

ALTER FUNCTION audit.log_row_change() OWNER TO provision_audit;
REVOKE ALL ON FUNCTION audit.log_row_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.log_row_change() TO provision_tenant_owners;

-- ---------------------------------------------------------------------------
-- Data retention policies (seed 000 §11; periods from seed 001 §4.2 and seed 002 "Data Retention Policy")
-- ---------------------------------------------------------------------------

-- seed: seed 000 names data_retention_policies without columns; designed here. table_name is a table's unqualified name as
-- blueprints name it (audit_log = every tenant's audit.<code>_audit_log). Whatever enforces retention reads this table.
CREATE TABLE shared.data_retention_policies (
    policy_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    table_name VARCHAR(100) UNIQUE NOT NULL,
    retention_days INTEGER NOT NULL CHECK (retention_days > 0),
    archive_before_delete BOOLEAN DEFAULT true,
    description TEXT,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

CREATE FUNCTION shared.set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER trg_data_retention_policies_set_updated_at
    BEFORE UPDATE ON shared.data_retention_policies
    FOR EACH ROW EXECUTE FUNCTION shared.set_updated_at();

-- seed: seed 002 also lists claims and members (7 years); blueprints add the rows for their own tables in their shared part.
-- DO NOTHING: a period an operator changed later must never be reset.
-- Split (issue 12): this INSERT listed the shipped blueprint's tables as well; those rows moved with it (see above).
INSERT INTO shared.data_retention_policies (table_name, retention_days, archive_before_delete, description)
VALUES
    ('audit_log',          2555, true,  'Audit trail: 7 years (seed 001 §4.2, seed 002: IRDAI/HIPAA-style compliance)')
ON CONFLICT (table_name) DO NOTHING;
