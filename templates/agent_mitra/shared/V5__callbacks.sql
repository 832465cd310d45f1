-- Until blueprint packs this file was provision's own migration V8 (its comments still use those numbers:
-- V3, V4, V6, V7, V8, V9 there are V1, V2, V3, V4, V5, V6 here). A database made then records it in
-- provision.refinery_schema_history with the checksum below; `provision up` re-records it in this blueprint's
-- shared history. The statements are unchanged, byte for byte.
-- provision:replaces-core-version 8 checksum 18415890386528907643

-- Seed 001 §7 "Callback Request Management Database Schemas".
-- seed: unqualified objects beside the portal_service tables; keyed by tenant_id (row-level tenancy), so they live in schema portal (V7)
-- seed: tenant_id UUID NOT NULL with no FK; every tenant_id here references shared.tenants(tenant_id)
-- Customers live in tenant schemas (lic_schema.policyholders, ...): customer_id is a plain UUID without FK, as a database-wide table cannot reference one tenant's schema.
-- seed §7 has no views, sample rows or default passwords; none are created here.
-- Functions pin search_path = pg_catalog, pg_temp and qualify every portal object they use.

-- Callback request priority levels
-- seed: CREATE TYPE callback_priority unqualified; created in schema portal, before the tables using it
CREATE TYPE portal.callback_priority AS ENUM ('high', 'medium', 'low');

-- Callback request status
-- seed: CREATE TYPE callback_status unqualified; created in schema portal, before the tables using it
CREATE TYPE portal.callback_status AS ENUM ('pending', 'assigned', 'in_progress', 'completed', 'cancelled', 'overdue');

-- Main callback requests table
CREATE TABLE portal.callback_requests (
    callback_request_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    customer_id UUID NOT NULL, -- References main app customers (tenant schema, no FK)
    agent_id UUID REFERENCES portal.portal_users(user_id), -- Assigned agent (nullable)
    request_type VARCHAR(100) NOT NULL, -- 'policy_issue', 'payment_problem', 'claim_assistance', etc.
    description TEXT NOT NULL,
    priority portal.callback_priority DEFAULT 'low',
    priority_score DECIMAL(5,2) DEFAULT 0.00, -- Calculated priority score 0-100
    status portal.callback_status DEFAULT 'pending',

    -- Customer contact information (cached for performance)
    customer_name VARCHAR(200) NOT NULL,
    customer_phone VARCHAR(20) NOT NULL,
    customer_email VARCHAR(255),

    -- SLA and time management
    sla_hours INTEGER DEFAULT 24, -- Service Level Agreement in hours
    created_at TIMESTAMP DEFAULT NOW(),
    assigned_at TIMESTAMP,
    scheduled_at TIMESTAMP, -- When callback is scheduled
    due_at TIMESTAMP, -- Calculated due date based on SLA (callback_due_date_trigger)
    started_at TIMESTAMP, -- When agent starts working on callback
    completed_at TIMESTAMP,

    -- Source tracking
    source VARCHAR(50) DEFAULT 'portal', -- 'portal', 'whatsapp', 'mobile', 'api'
    source_reference_id VARCHAR(200), -- Reference ID from source system

    -- Metadata and categorization
    tags TEXT[] DEFAULT '{}', -- Array of tags for categorization
    category VARCHAR(100), -- 'technical', 'billing', 'policy', 'general'
    urgency_level VARCHAR(20) DEFAULT 'medium', -- 'critical', 'high', 'medium', 'low'
    customer_value VARCHAR(20) DEFAULT 'bronze', -- 'bronze', 'silver', 'gold', 'platinum'

    -- Resolution details
    resolution TEXT, -- How the callback was resolved
    resolution_category VARCHAR(100), -- 'resolved', 'escalated', 'transferred', 'cancelled'
    satisfaction_rating INTEGER CHECK (satisfaction_rating >= 1 AND satisfaction_rating <= 5),

    -- Audit fields
    created_by UUID REFERENCES portal.portal_users(user_id),
    assigned_by UUID REFERENCES portal.portal_users(user_id),
    completed_by UUID REFERENCES portal.portal_users(user_id),
    last_updated_by UUID REFERENCES portal.portal_users(user_id),
    last_updated_at TIMESTAMP DEFAULT NOW() -- maintained by callback_timestamps_trigger
);

-- Callback activity log (tracks all interactions)
CREATE TABLE portal.callback_activities (
    callback_activity_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    callback_request_id UUID REFERENCES portal.callback_requests(callback_request_id) ON DELETE CASCADE,
    agent_id UUID REFERENCES portal.portal_users(user_id),
    activity_type VARCHAR(50) NOT NULL, -- 'created', 'assigned', 'called', 'completed', 'escalated', 'cancelled', etc.
    description TEXT NOT NULL,
    duration_minutes INTEGER, -- Duration of the activity in minutes
    contact_method VARCHAR(50), -- 'phone', 'whatsapp', 'email', 'sms', 'in_person'
    contact_outcome VARCHAR(100), -- 'successful', 'no_answer', 'wrong_number', 'voicemail', etc.
    notes TEXT, -- Additional notes from agent
    metadata JSONB DEFAULT '{}', -- Flexible metadata storage
    created_at TIMESTAMP DEFAULT NOW()
);

-- Callback queue management
CREATE TABLE portal.callback_queues (
    callback_queue_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    queue_name VARCHAR(100) NOT NULL,
    queue_type VARCHAR(50) DEFAULT 'priority', -- 'priority', 'fifo', 'round_robin'
    description TEXT,
    is_active BOOLEAN DEFAULT true,
    max_concurrent_callbacks INTEGER DEFAULT 5, -- Max callbacks an agent can handle simultaneously
    sla_target_hours INTEGER DEFAULT 24,
    auto_assignment_enabled BOOLEAN DEFAULT true,
    assignment_rules JSONB DEFAULT '{}', -- Rules for auto-assignment
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

-- seed: no updated_at trigger; added (portal.set_updated_at from V7), as for every portal table with updated_at
CREATE TRIGGER trg_callback_queues_set_updated_at
    BEFORE UPDATE ON portal.callback_queues
    FOR EACH ROW EXECUTE FUNCTION portal.set_updated_at();

-- Agent callback assignments and capacity
CREATE TABLE portal.agent_callback_capacity (
    capacity_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id UUID REFERENCES portal.portal_users(user_id) UNIQUE,
    max_daily_callbacks INTEGER DEFAULT 50,
    max_concurrent_callbacks INTEGER DEFAULT 3,
    current_active_callbacks INTEGER DEFAULT 0,
    specialties TEXT[] DEFAULT '{}', -- Types of callbacks this agent specializes in
    availability_schedule JSONB DEFAULT '{}', -- Agent's availability schedule
    is_available BOOLEAN DEFAULT true,
    last_updated_at TIMESTAMP DEFAULT NOW()
);

-- Callback escalation rules
CREATE TABLE portal.callback_escalation_rules (
    escalation_rule_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    rule_name VARCHAR(200) NOT NULL,
    priority portal.callback_priority,
    trigger_condition JSONB NOT NULL, -- When to trigger escalation
    escalation_action VARCHAR(100) NOT NULL, -- 'notify_manager', 'reassign', 'increase_priority', etc.
    escalation_target JSONB NOT NULL, -- Who/what to escalate to
    is_active BOOLEAN DEFAULT true,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

-- seed: no updated_at trigger; added (portal.set_updated_at from V7), as for every portal table with updated_at
CREATE TRIGGER trg_callback_escalation_rules_set_updated_at
    BEFORE UPDATE ON portal.callback_escalation_rules
    FOR EACH ROW EXECUTE FUNCTION portal.set_updated_at();

-- Callback templates for common responses
CREATE TABLE portal.callback_templates (
    template_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    template_name VARCHAR(200) NOT NULL,
    category VARCHAR(100) NOT NULL,
    subject VARCHAR(500),
    template_text TEXT NOT NULL,
    variables TEXT[] DEFAULT '{}', -- Available variables for personalization
    is_active BOOLEAN DEFAULT true,
    created_by UUID REFERENCES portal.portal_users(user_id),
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

-- seed: no updated_at trigger; added (portal.set_updated_at from V7), as for every portal table with updated_at
CREATE TRIGGER trg_callback_templates_set_updated_at
    BEFORE UPDATE ON portal.callback_templates
    FOR EACH ROW EXECUTE FUNCTION portal.set_updated_at();

-- Callback analytics and reporting tables
CREATE TABLE portal.callback_metrics_daily (
    metric_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    date DATE NOT NULL,
    total_callbacks INTEGER DEFAULT 0,
    resolved_callbacks INTEGER DEFAULT 0,
    avg_resolution_time_minutes DECIMAL(8,2),
    avg_first_response_time_minutes DECIMAL(8,2),
    sla_compliance_percentage DECIMAL(5,2),
    customer_satisfaction_avg DECIMAL(3,2),
    callbacks_by_priority JSONB DEFAULT '{}',
    callbacks_by_type JSONB DEFAULT '{}',
    callbacks_by_source JSONB DEFAULT '{}',
    agent_performance JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT NOW(),

    UNIQUE (tenant_id, date)
);

-- Callback performance tracking per agent
CREATE TABLE portal.agent_callback_performance (
    performance_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id UUID REFERENCES portal.portal_users(user_id),
    tenant_id UUID NOT NULL REFERENCES shared.tenants(tenant_id),
    date DATE NOT NULL,
    total_assigned INTEGER DEFAULT 0,
    total_resolved INTEGER DEFAULT 0,
    avg_resolution_time_minutes DECIMAL(8,2),
    sla_compliance_percentage DECIMAL(5,2),
    customer_satisfaction_avg DECIMAL(3,2),
    callbacks_by_priority JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT NOW(),

    UNIQUE (agent_id, date)
);

-- Callback SLA tracking
-- Both generated expressions are immutable (timestamp comparison and timestamp difference, no now()), so they stay generated columns.
CREATE TABLE portal.callback_sla_tracking (
    sla_tracking_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    callback_request_id UUID REFERENCES portal.callback_requests(callback_request_id),
    sla_type VARCHAR(50) NOT NULL, -- 'first_response', 'resolution'
    target_time TIMESTAMP NOT NULL,
    actual_time TIMESTAMP,
    is_met BOOLEAN GENERATED ALWAYS AS (actual_time <= target_time) STORED, -- NULL until actual_time is set
    delay_minutes INTEGER GENERATED ALWAYS AS (
        EXTRACT(EPOCH FROM (actual_time - target_time))/60
    ) STORED, -- negative when early; NULL until actual_time is set
    created_at TIMESTAMP DEFAULT NOW()
);

-- Indexes for performance
CREATE INDEX idx_callback_requests_tenant_status ON portal.callback_requests(tenant_id, status);
CREATE INDEX idx_callback_requests_tenant_priority ON portal.callback_requests(tenant_id, priority);
CREATE INDEX idx_callback_requests_customer ON portal.callback_requests(customer_id);
CREATE INDEX idx_callback_requests_agent ON portal.callback_requests(agent_id);
CREATE INDEX idx_callback_requests_due_at ON portal.callback_requests(due_at);
CREATE INDEX idx_callback_requests_created_at ON portal.callback_requests(created_at);
CREATE INDEX idx_callback_activities_callback ON portal.callback_activities(callback_request_id);
CREATE INDEX idx_callback_activities_agent ON portal.callback_activities(agent_id);
CREATE INDEX idx_callback_activities_created_at ON portal.callback_activities(created_at);
-- seed: CREATE INDEX idx_callback_metrics_daily_tenant_date ON (tenant_id, date); not created, it would duplicate the index of UNIQUE (tenant_id, date)
-- seed: CREATE INDEX idx_agent_callback_performance_agent_date ON (agent_id, date); not created, it would duplicate the index of UNIQUE (agent_id, date)
CREATE INDEX idx_callback_sla_tracking_callback ON portal.callback_sla_tracking(callback_request_id);

-- Partial indexes for common queries
CREATE INDEX idx_callback_requests_pending ON portal.callback_requests(callback_request_id) WHERE status = 'pending';
-- seed: ON (callback_request_id) WHERE status NOT IN ('completed', 'cancelled') AND due_at < NOW(); NOW() is not immutable so cannot be in an index predicate: open callbacks are indexed by due_at, and "due_at < now()" range-scans it
CREATE INDEX idx_callback_requests_overdue ON portal.callback_requests(due_at)
    WHERE status NOT IN ('completed', 'cancelled');
CREATE INDEX idx_callback_requests_high_priority ON portal.callback_requests(callback_request_id)
    WHERE priority = 'high' AND status NOT IN ('completed', 'cancelled');

-- Row Level Security policies
-- seed: current_setting('app.…') without missing_ok, which raises an error while the setting is absent; here an absent or empty setting reads as NULL and matches no row
ALTER TABLE portal.callback_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.agent_callback_capacity ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.callback_metrics_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal.agent_callback_performance ENABLE ROW LEVEL SECURITY;

-- RLS policy for callback_requests (tenant isolation)
CREATE POLICY callback_requests_tenant_isolation ON portal.callback_requests
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID);

-- Additional access control policies
-- seed: a permissive policy, which PostgreSQL ORs with tenant isolation (so an 'admin' saw every tenant's rows); RESTRICTIVE so it narrows the tenant's rows instead
CREATE POLICY callback_requests_agent_access ON portal.callback_requests
    AS RESTRICTIVE
    FOR ALL USING (agent_id = NULLIF(current_setting('app.current_user_id', true), '')::UUID OR
                   current_setting('app.user_role', true) IN ('admin', 'manager'));

-- RLS policy for callback_activities
CREATE POLICY callback_activities_tenant_isolation ON portal.callback_activities
    FOR ALL USING (
        EXISTS (
            SELECT 1 FROM portal.callback_requests cr
            WHERE cr.callback_request_id = callback_activities.callback_request_id
            AND cr.tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID
        )
    );

-- RLS policy for agent_callback_capacity
CREATE POLICY agent_callback_capacity_tenant_isolation ON portal.agent_callback_capacity
    FOR ALL USING (
        EXISTS (
            SELECT 1 FROM portal.portal_users pu
            WHERE pu.user_id = agent_callback_capacity.agent_id
            AND pu.tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID
        )
    );

-- seed: RLS enabled on callback_metrics_daily with no policy, which denies every row to the application; tenant isolation added
CREATE POLICY callback_metrics_daily_tenant_isolation ON portal.callback_metrics_daily
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID);

-- seed: RLS enabled on agent_callback_performance with no policy, which denies every row to the application; tenant isolation added
CREATE POLICY agent_callback_performance_tenant_isolation ON portal.agent_callback_performance
    FOR ALL USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::UUID);

-- Functions for callback management
-- seed: unqualified, VOLATILE by default; IMMUTABLE (the result depends only on the arguments)
-- seed: a NULL age_hours added the full 10 points (LEAST ignores NULL) and a negative one subtracted; NULL counts as 0 and negatives are clamped to 0
-- customer_id is unused, as in the seed; kept so callers written against the seed's signature still work
CREATE FUNCTION portal.calculate_callback_priority_score(
    customer_id UUID,
    request_type VARCHAR(100),
    urgency_level VARCHAR(20),
    customer_value VARCHAR(20),
    age_hours INTEGER DEFAULT 0
) RETURNS DECIMAL(5,2)
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    base_score DECIMAL(5,2) := 0;
    request_weights JSONB := '{
        "policy_issue": 90,
        "payment_problem": 85,
        "claim_assistance": 80,
        "general_inquiry": 60,
        "feedback": 40,
        "suggestion": 30
    }';
    urgency_modifiers JSONB := '{
        "critical": 20,
        "high": 15,
        "medium": 10,
        "low": 0
    }';
    value_modifiers JSONB := '{
        "platinum": 15,
        "gold": 10,
        "silver": 5,
        "bronze": 0
    }';
BEGIN
    -- Get base score from request type
    base_score := COALESCE((request_weights->>request_type)::DECIMAL, 50.0);

    -- Add urgency modifier
    base_score := base_score + COALESCE((urgency_modifiers->>urgency_level)::DECIMAL, 0);

    -- Add customer value modifier
    base_score := base_score + COALESCE((value_modifiers->>customer_value)::DECIMAL, 0);

    -- Add age-based urgency: a quarter point per hour of age, at most 10
    base_score := base_score + LEAST(GREATEST(COALESCE(age_hours, 0), 0)::DECIMAL / 4, 10);

    -- seed: RETURN LEAST(100.0, GREATEST(1.0, base_score)), whose scale varied (100.0 vs 70.00); rounded to the declared 2 decimals
    RETURN round(LEAST(100.0, GREATEST(1.0, base_score)), 2);
END;
$$;

-- Function to assign priority category based on score
-- seed: unqualified, VOLATILE by default; STABLE, not IMMUTABLE: it produces enum values from their labels, and PostgreSQL marks enum input (enum_in) STABLE since labels can be renamed
CREATE FUNCTION portal.get_callback_priority_category(score DECIMAL(5,2))
RETURNS portal.callback_priority
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF score >= 85 THEN
        RETURN 'high'::portal.callback_priority;
    ELSIF score >= 70 THEN
        RETURN 'medium'::portal.callback_priority;
    ELSE
        RETURN 'low'::portal.callback_priority; -- also for a NULL score
    END IF;
END;
$$;

-- Function to calculate SLA due date
-- seed: unqualified, VOLATILE by default; STABLE, not IMMUTABLE: it matches the enum argument against labels, and PostgreSQL marks enum input (enum_in) STABLE since labels can be renamed
CREATE FUNCTION portal.calculate_callback_due_date(
    created_at TIMESTAMP,
    priority portal.callback_priority
) RETURNS TIMESTAMP
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sla_hours INTEGER;
BEGIN
    -- Get SLA hours based on priority
    CASE priority
        WHEN 'high' THEN sla_hours := 2;    -- 2 hours for high priority
        WHEN 'medium' THEN sla_hours := 8;  -- 8 hours for medium priority
        WHEN 'low' THEN sla_hours := 24;    -- 24 hours for low priority
        ELSE sla_hours := 24;               -- NULL priority
    END CASE;

    RETURN created_at + INTERVAL '1 hour' * sla_hours;
END;
$$;

-- Trigger to automatically set due date when callback is created
-- seed: NEW.created_at used as given, so an explicit NULL created_at left due_at NULL; a missing created_at is taken as now(), as its default would
CREATE FUNCTION portal.set_callback_due_date()
RETURNS TRIGGER
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.created_at IS NULL THEN
        NEW.created_at := now();
    END IF;
    IF NEW.due_at IS NULL THEN
        NEW.due_at := portal.calculate_callback_due_date(NEW.created_at, NEW.priority);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER callback_due_date_trigger
    BEFORE INSERT ON portal.callback_requests
    FOR EACH ROW
    EXECUTE FUNCTION portal.set_callback_due_date();

-- Function to update callback status timestamps
-- seed: OLD.status != '…', which is NULL (so no timestamp) when the old status was NULL; IS DISTINCT FROM instead
-- seed: last_updated_at was never maintained (DEFAULT only); set on every update here
CREATE FUNCTION portal.update_callback_timestamps()
RETURNS TRIGGER
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Set assigned_at when status changes to assigned
    IF NEW.status = 'assigned' AND OLD.status IS DISTINCT FROM 'assigned' THEN
        NEW.assigned_at := now();
    END IF;

    -- Set started_at when status changes to in_progress
    IF NEW.status = 'in_progress' AND OLD.status IS DISTINCT FROM 'in_progress' THEN
        NEW.started_at := now();
    END IF;

    -- Set completed_at when status changes to completed
    IF NEW.status = 'completed' AND OLD.status IS DISTINCT FROM 'completed' THEN
        NEW.completed_at := now();
    END IF;

    NEW.last_updated_at := now();

    RETURN NEW;
END;
$$;

CREATE TRIGGER callback_timestamps_trigger
    BEFORE UPDATE ON portal.callback_requests
    FOR EACH ROW
    EXECUTE FUNCTION portal.update_callback_timestamps();
