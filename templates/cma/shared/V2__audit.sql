-- The application's audit trail (seed "audit_logs"), the triggers that stamp who changed a row and when ("Audit
-- Trail": created_by, updated_by, updated_at), and the row-level audit that writes every change of the business tables
-- into the trail.

-- seed: centre_id and user_id referenced centres and users. Here they are plain integers, no foreign key at all: audit
-- rows outlive the users they name and a removed centre (blueprint.toml [row] keep = ["audit_logs"]), and a trail that
-- a user's deletion could rewrite (SET NULL) or block proves nothing.
CREATE TABLE cma.audit_logs (
    id BIGSERIAL PRIMARY KEY,
    centre_id INTEGER,
    user_id INTEGER,
    action VARCHAR(100) NOT NULL,
    table_name VARCHAR(100),
    record_id INTEGER,
    old_values JSONB,
    new_values JSONB,
    ip_address INET,
    user_agent TEXT,
    session_id VARCHAR(255),
    timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_audit_logs_user_timestamp ON cma.audit_logs(user_id, timestamp);
CREATE INDEX idx_audit_logs_centre_timestamp ON cma.audit_logs(centre_id, timestamp);

-- seed: nothing kept the trail from being edited. It is append-only: UPDATE and TRUNCATE are refused for every role
-- that does not bypass triggers, and DELETE is refused for any row younger than the trail's retention period, which is
-- what `provision retention run` removes (blueprint.toml: 10 years, or the operator's period in
-- shared.retention_periods). The application roles have neither UPDATE nor DELETE to begin with (V3).
CREATE FUNCTION cma.audit_logs_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period interval := coalesce(
        (SELECT make_interval(days => p.retention_days) FROM shared.retention_periods p
         WHERE p.blueprint = 'cma' AND p.rule = 'audit_logs'),
        interval '10 years');
BEGIN
    IF TG_OP = 'DELETE' AND OLD."timestamp" < localtimestamp - period THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'cma.audit_logs is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit rows are never changed; rows older than their retention period are removed by provision retention run.';
END;
$$;

CREATE TRIGGER audit_logs_append_only
    BEFORE UPDATE OR DELETE ON cma.audit_logs
    FOR EACH ROW EXECUTE FUNCTION cma.audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate
    BEFORE TRUNCATE ON cma.audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION cma.audit_logs_append_only();

-- The acting user: app.user_id, which the application sets per transaction; NULL when unset or empty.
CREATE FUNCTION cma.current_user_id() RETURNS integer
LANGUAGE sql STABLE
AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::integer $$;

-- Stamps a row on INSERT and UPDATE, for whichever of these columns its table has: updated_at (now), created_by (the
-- acting user, on INSERT; afterwards it can only be cleared, as a user's removal does), updated_by (the acting user),
-- deleted_at (set to now when a soft delete sets it, whatever the application wrote: V3's policies let the deleting
-- transaction still see the row, no later one). A change made by a trigger or a foreign-key action (SET NULL) is
-- not a user's edit and is left as it is.
CREATE FUNCTION cma.stamp_row() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    has jsonb := to_jsonb(NEW);
    patch jsonb := '{}';
    acting integer := cma.current_user_id();
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    IF has ? 'updated_at' THEN
        patch := patch || jsonb_build_object('updated_at', localtimestamp);
    END IF;
    IF has ? 'updated_by' THEN
        patch := patch || jsonb_build_object('updated_by', acting);
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF has ? 'created_by' THEN
            patch := patch || jsonb_build_object('created_by', acting);
        END IF;
    ELSE
        IF has ? 'created_by' AND has->'created_by' <> 'null' THEN
            patch := patch || jsonb_build_object('created_by', to_jsonb(OLD)->'created_by');
        END IF;
        IF has ? 'deleted_at' AND has->'deleted_at' <> 'null' AND to_jsonb(OLD)->'deleted_at' = 'null' THEN
            patch := patch || jsonb_build_object('deleted_at', localtimestamp);
        END IF;
    END IF;
    RETURN jsonb_populate_record(NEW, patch);
END;
$$;

-- Row-level audit: one cma.audit_logs row per changed row, with the acting user, the row's centre and its values
-- before and after. The trigger's arguments name columns never copied into the trail.
-- seed: the clients' personal columns and users.password_hash are left out of old_values / new_values: the trail is
-- kept 10 years, and a client's right to erasure (retention's anonymisation) could not reach a copy kept there.
CREATE FUNCTION cma.audit_row() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    old_values jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - coalesce(TG_ARGV, '{}') END;
    new_values jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - coalesce(TG_ARGV, '{}') END;
    subject jsonb := coalesce(new_values, old_values);
BEGIN
    INSERT INTO cma.audit_logs (centre_id, user_id, action, table_name, record_id, old_values, new_values)
    VALUES (CASE WHEN TG_TABLE_NAME = 'centres' THEN (subject->>'id')::integer ELSE (subject->>'centre_id')::integer END,
            cma.current_user_id(), TG_OP, TG_TABLE_NAME, (subject->>'id')::integer, old_values, new_values);
    RETURN NULL;
END;
$$;

CREATE TRIGGER stamp_row BEFORE INSERT OR UPDATE ON cma.centres FOR EACH ROW EXECUTE FUNCTION cma.stamp_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON cma.centres
    FOR EACH ROW EXECUTE FUNCTION cma.audit_row();
CREATE TRIGGER stamp_row BEFORE INSERT OR UPDATE ON cma.users FOR EACH ROW EXECUTE FUNCTION cma.stamp_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON cma.users
    FOR EACH ROW EXECUTE FUNCTION cma.audit_row('password_hash');
CREATE TRIGGER stamp_row BEFORE INSERT OR UPDATE ON cma.clients FOR EACH ROW EXECUTE FUNCTION cma.stamp_row();
CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON cma.clients
    FOR EACH ROW EXECUTE FUNCTION cma.audit_row('title', 'first_name', 'last_name', 'date_of_birth',
        'national_insurance_number', 'phone_primary', 'phone_secondary', 'email', 'address_line1', 'address_line2',
        'city', 'postcode');
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['cases', 'creditors', 'debts', 'budget_sheets', 'documents', 'case_notes', 'appointments',
                             'appointment_notes', 'case_compliance', 'ai_insights'] LOOP
        EXECUTE format('CREATE TRIGGER stamp_row BEFORE INSERT OR UPDATE ON cma.%I '
                       'FOR EACH ROW EXECUTE FUNCTION cma.stamp_row()', t);
        EXECUTE format('CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON cma.%I '
                       'FOR EACH ROW EXECUTE FUNCTION cma.audit_row()', t);
    END LOOP;
END $$;
