-- The cma pack (seed 003, the CMA debt-advice case management system), ROW tenancy: one set of tables in schema cma for
-- every centre; a centre (tenant) is one row of cma.centres, made by `provision tenant add`. Every table holding a
-- centre's data carries centre_id, and a child references its parent by (parent_id, centre_id), so no row can point at
-- another centre's row whatever the policies let through (they are the second wall: V3).
--
-- seed: the document's `TIMESTAMP` columns stay TIMESTAMP (without time zone), as written; deleted_at (new) follows them.
-- seed: "Every table that contains center-specific data includes a centre_id foreign key": creditors, debts,
-- budget_sheets, case_compliance, ai_insights, case_notes and appointment_notes lacked it in the document; they carry it
-- here (NOT NULL), with composite keys to their parents.
CREATE SCHEMA cma;
GRANT USAGE ON SCHEMA cma TO provision_tenant_apps, provision_tenant_readers;

-- centres: the tenant table. provision inserts code (the tenant code), name, city and postcode ([attributes]).
CREATE TABLE cma.centres (
    id SERIAL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    -- seed: VARCHAR(10); provision's tenant codes are up to 56 bytes.
    code VARCHAR(56) UNIQUE NOT NULL,
    address_line1 VARCHAR(255),
    address_line2 VARCHAR(255),
    city VARCHAR(100),
    postcode VARCHAR(20),
    phone VARCHAR(20),
    email VARCHAR(255),
    -- seed: `REFERENCES users(id)` before users existed (a cycle). users is made after centres and V1's end adds
    -- (manager_id, id) -> users (id, centre_id): the manager must work at this centre.
    manager_id INTEGER,
    -- seed: no CHECK; provision's `tenant activate` / `remove --keep-data` set exactly these two.
    status VARCHAR(20) DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    settings JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    -- seed: soft delete ("Important records use soft deletion with deleted_at"); the document's tables had no such column.
    deleted_at TIMESTAMP
);

CREATE TABLE cma.users (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    -- seed: username and email were UNIQUE across all centres; unique per centre here (UNIQUE (centre_id, ...) below),
    -- so one centre's names neither collide with nor reveal another's.
    username VARCHAR(50) NOT NULL,
    email VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    role VARCHAR(20) NOT NULL CHECK (role IN ('admin', 'advisor', 'manager', 'trainee')),
    phone VARCHAR(20),
    hire_date DATE,
    qualification_level VARCHAR(50),
    is_active BOOLEAN DEFAULT true,
    last_login TIMESTAMP,
    settings JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    deleted_at TIMESTAMP, -- seed: soft delete (see centres)
    UNIQUE (id, centre_id),
    UNIQUE (centre_id, username),
    UNIQUE (centre_id, email)
);

-- The manager works at the centre. ON DELETE SET NULL (manager_id) only (PG15 column list): removing a user clears the
-- manager, never the centre's own key.
ALTER TABLE cma.centres ADD CONSTRAINT centres_manager_fkey
    FOREIGN KEY (manager_id, id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (manager_id);

-- seed: created_by / updated_by / advisor_id / verified_by / checked_by referenced users(id) alone; here (x, centre_id)
-- -> users (id, centre_id), so a record names only users of its own centre. Authors' keys are ON DELETE SET NULL (x):
-- removing a user keeps what they wrote.
CREATE TABLE cma.clients (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    -- seed: UNIQUE across centres; per centre here (UNIQUE (centre_id, client_reference)).
    client_reference VARCHAR(50) NOT NULL,
    title VARCHAR(10),
    first_name VARCHAR(100) NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    date_of_birth DATE,
    national_insurance_number VARCHAR(13),
    phone_primary VARCHAR(20),
    phone_secondary VARCHAR(20),
    email VARCHAR(255),
    address_line1 VARCHAR(255),
    address_line2 VARCHAR(255),
    city VARCHAR(100),
    postcode VARCHAR(20),
    marital_status VARCHAR(20),
    employment_status VARCHAR(50),
    monthly_income DECIMAL(10,2),
    dependents INTEGER DEFAULT 0,
    vulnerability_flags JSONB DEFAULT '[]',
    data_consent BOOLEAN DEFAULT false,
    data_consent_date TIMESTAMP,
    gdpr_deletion_request BOOLEAN DEFAULT false,
    gdpr_deletion_date TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    deleted_at TIMESTAMP, -- seed: soft delete (see centres)
    UNIQUE (id, centre_id),
    UNIQUE (centre_id, client_reference),
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

CREATE TABLE cma.cases (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    -- seed: UNIQUE across centres; per centre here (UNIQUE (centre_id, case_reference)).
    case_reference VARCHAR(50) NOT NULL,
    client_id INTEGER NOT NULL,
    advisor_id INTEGER NOT NULL,
    case_type VARCHAR(50) NOT NULL,
    status VARCHAR(30) DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'closed', 'referred', 'cancelled')),
    priority VARCHAR(10) DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    opening_date DATE NOT NULL DEFAULT CURRENT_DATE,
    closing_date DATE,
    closure_reason VARCHAR(100),
    total_debt DECIMAL(12,2),
    monthly_surplus DECIMAL(8,2),
    debt_solution VARCHAR(100),
    fca_outcome VARCHAR(100),
    compliance_status VARCHAR(30) DEFAULT 'pending',
    ai_risk_score DECIMAL(3,2),
    ai_recommendations JSONB DEFAULT '[]',
    next_review_date DATE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    deleted_at TIMESTAMP, -- seed: soft delete (see centres)
    UNIQUE (id, centre_id),
    UNIQUE (centre_id, case_reference),
    FOREIGN KEY (client_id, centre_id) REFERENCES cma.clients (id, centre_id),
    FOREIGN KEY (advisor_id, centre_id) REFERENCES cma.users (id, centre_id),
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

-- Financial data: kept 7 years (blueprint.toml [[retention]]), so its keys to cases have no ON DELETE action: a closed
-- case stays while its financial rows do.
-- seed: creditors, budget_sheets had no created_by / updated_by (creditors) or updated_by (budget_sheets); added as on
-- every business-critical table ("Audit Trail").
CREATE TABLE cma.creditors (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id), -- seed: added (see the top)
    case_id INTEGER NOT NULL,
    creditor_name VARCHAR(255) NOT NULL,
    creditor_type VARCHAR(50),
    account_number VARCHAR(100),
    original_balance DECIMAL(10,2),
    current_balance DECIMAL(10,2),
    monthly_payment DECIMAL(8,2),
    interest_rate DECIMAL(5,2),
    arrears_amount DECIMAL(10,2),
    priority_level VARCHAR(20) DEFAULT 'non-priority',
    contact_name VARCHAR(100),
    contact_phone VARCHAR(20),
    contact_email VARCHAR(255),
    status VARCHAR(30) DEFAULT 'active',
    notes TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    UNIQUE (id, centre_id),
    FOREIGN KEY (case_id, centre_id) REFERENCES cma.cases (id, centre_id),
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

-- seed: the ER diagram's `creditors ||--o{ debts : "owns"` has no table in the document. Defined here: each debt account
-- a creditor holds against the client (a creditor may hold several: a loan and a card).
CREATE TABLE cma.debts (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    creditor_id INTEGER NOT NULL,
    debt_type VARCHAR(50) NOT NULL CHECK (debt_type IN ('credit_card', 'personal_loan', 'overdraft', 'catalogue',
        'payday_loan', 'council_tax', 'rent_arrears', 'mortgage_arrears', 'utility', 'ccj', 'other')),
    account_reference VARCHAR(100),
    priority BOOLEAN NOT NULL DEFAULT false,
    original_amount DECIMAL(10,2),
    balance DECIMAL(10,2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
    arrears_amount DECIMAL(10,2) DEFAULT 0,
    monthly_payment DECIMAL(8,2),
    interest_rate DECIMAL(5,2),
    status VARCHAR(30) DEFAULT 'active' CHECK (status IN ('active', 'frozen', 'in_arrangement', 'defaulted',
        'settled', 'written_off')),
    start_date DATE,
    default_date DATE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    UNIQUE (id, centre_id),
    FOREIGN KEY (creditor_id, centre_id) REFERENCES cma.creditors (id, centre_id),
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

CREATE TABLE cma.budget_sheets (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id), -- seed: added (see the top)
    case_id INTEGER NOT NULL,
    sheet_type VARCHAR(30) DEFAULT 'initial' CHECK (sheet_type IN ('initial', 'revised', 'final')),
    total_income DECIMAL(10,2) NOT NULL DEFAULT 0,
    total_expenses DECIMAL(10,2) NOT NULL DEFAULT 0,
    surplus_deficit DECIMAL(10,2) GENERATED ALWAYS AS (total_income - total_expenses) STORED,
    income_details JSONB DEFAULT '{}',
    expense_details JSONB DEFAULT '{}',
    verification_status VARCHAR(30) DEFAULT 'unverified',
    verified_by INTEGER,
    verified_date TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    UNIQUE (id, centre_id),
    FOREIGN KEY (case_id, centre_id) REFERENCES cma.cases (id, centre_id),
    FOREIGN KEY (verified_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (verified_by),
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

-- A case's own records (documents, notes, compliance checks, insights) go with it: ON DELETE CASCADE.
-- seed: documents had no updated_at / updated_by / deleted_at; added (audit fields, soft delete).
CREATE TABLE cma.documents (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    case_id INTEGER,
    document_name VARCHAR(255) NOT NULL,
    document_type VARCHAR(100),
    file_path VARCHAR(500),
    file_size BIGINT,
    mime_type VARCHAR(100),
    version_number INTEGER DEFAULT 1,
    is_encrypted BOOLEAN DEFAULT false,
    encryption_key_id VARCHAR(100),
    upload_status VARCHAR(30) DEFAULT 'pending',
    ocr_status VARCHAR(30) DEFAULT 'not_processed',
    ocr_confidence DECIMAL(3,2),
    extracted_text TEXT,
    ai_classification JSONB DEFAULT '{}',
    access_level VARCHAR(30) DEFAULT 'case_team',
    retention_date DATE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    deleted_at TIMESTAMP,
    UNIQUE (id, centre_id),
    FOREIGN KEY (case_id, centre_id) REFERENCES cma.cases (id, centre_id) ON DELETE CASCADE,
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

-- seed: the ER diagram's `cases ||--o{ case_notes` / `users ||--o{ case_notes : "creates"` has no table in the
-- document. Defined here: an advisor's dated note on a case.
CREATE TABLE cma.case_notes (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    case_id INTEGER NOT NULL,
    note_type VARCHAR(30) NOT NULL DEFAULT 'general' CHECK (note_type IN ('general', 'phone_call', 'email', 'letter',
        'advice_given', 'action', 'review')),
    content TEXT NOT NULL,
    is_confidential BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    deleted_at TIMESTAMP,
    UNIQUE (id, centre_id),
    FOREIGN KEY (case_id, centre_id) REFERENCES cma.cases (id, centre_id) ON DELETE CASCADE,
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

-- seed: appointments had no updated_by; added. Its case is optional (ON DELETE SET NULL (case_id)): the appointment
-- belongs to the client as well.
CREATE TABLE cma.appointments (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    case_id INTEGER,
    client_id INTEGER NOT NULL,
    advisor_id INTEGER NOT NULL,
    appointment_type VARCHAR(50) NOT NULL,
    status VARCHAR(30) DEFAULT 'scheduled',
    scheduled_date DATE NOT NULL,
    scheduled_time TIME NOT NULL,
    duration_minutes INTEGER DEFAULT 60,
    location VARCHAR(255),
    meeting_mode VARCHAR(30) DEFAULT 'in_person',
    preparation_notes TEXT,
    outcome_summary TEXT,
    follow_up_required BOOLEAN DEFAULT false,
    follow_up_date DATE,
    reminder_sent BOOLEAN DEFAULT false,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    UNIQUE (id, centre_id),
    FOREIGN KEY (case_id, centre_id) REFERENCES cma.cases (id, centre_id) ON DELETE SET NULL (case_id),
    FOREIGN KEY (client_id, centre_id) REFERENCES cma.clients (id, centre_id),
    FOREIGN KEY (advisor_id, centre_id) REFERENCES cma.users (id, centre_id),
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

-- seed: the ER diagram's `appointments ||--o{ appointment_notes` has no table in the document. Defined here: notes
-- taken before, during or after an appointment.
CREATE TABLE cma.appointment_notes (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    appointment_id INTEGER NOT NULL,
    note_type VARCHAR(30) NOT NULL DEFAULT 'general' CHECK (note_type IN ('general', 'preparation', 'outcome',
        'follow_up')),
    content TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_by INTEGER,
    updated_by INTEGER,
    UNIQUE (id, centre_id),
    FOREIGN KEY (appointment_id, centre_id) REFERENCES cma.appointments (id, centre_id) ON DELETE CASCADE,
    FOREIGN KEY (created_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (updated_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (updated_by)
);

-- seed: case_compliance had no centre_id; added. Its evidence document, when that goes, is forgotten
-- (ON DELETE SET NULL (evidence_document_id)), never the check.
CREATE TABLE cma.case_compliance (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    case_id INTEGER NOT NULL,
    compliance_type VARCHAR(100) NOT NULL,
    requirement_met BOOLEAN DEFAULT false,
    evidence_provided BOOLEAN DEFAULT false,
    evidence_document_id INTEGER,
    check_date DATE DEFAULT CURRENT_DATE,
    checked_by INTEGER,
    notes TEXT,
    remedial_action TEXT,
    deadline_date DATE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (id, centre_id),
    FOREIGN KEY (case_id, centre_id) REFERENCES cma.cases (id, centre_id) ON DELETE CASCADE,
    FOREIGN KEY (evidence_document_id, centre_id) REFERENCES cma.documents (id, centre_id)
        ON DELETE SET NULL (evidence_document_id),
    FOREIGN KEY (checked_by, centre_id) REFERENCES cma.users (id, centre_id) ON DELETE SET NULL (checked_by)
);

-- seed: ai_insights had no centre_id; added.
CREATE TABLE cma.ai_insights (
    id SERIAL PRIMARY KEY,
    centre_id INTEGER NOT NULL REFERENCES cma.centres(id),
    case_id INTEGER NOT NULL,
    insight_type VARCHAR(100) NOT NULL,
    confidence_score DECIMAL(3,2),
    analysis_data JSONB NOT NULL,
    recommendations JSONB DEFAULT '[]',
    model_version VARCHAR(50),
    processed_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    status VARCHAR(30) DEFAULT 'active',
    feedback_rating INTEGER CHECK (feedback_rating BETWEEN 1 AND 5),
    feedback_notes TEXT,
    UNIQUE (id, centre_id),
    FOREIGN KEY (case_id, centre_id) REFERENCES cma.cases (id, centre_id) ON DELETE CASCADE
);

-- The document's indexes ("Key Indexes"), then one per composite foreign key the document did not index (a parent's
-- delete or key check would scan the child otherwise).
CREATE INDEX idx_cases_centre_id ON cma.cases(centre_id);
CREATE INDEX idx_users_centre_id ON cma.users(centre_id);
CREATE INDEX idx_clients_centre_id ON cma.clients(centre_id);
CREATE INDEX idx_appointments_centre_id ON cma.appointments(centre_id);
CREATE INDEX idx_cases_advisor_status ON cma.cases(advisor_id, status);
CREATE INDEX idx_cases_client_id ON cma.cases(client_id);
CREATE INDEX idx_cases_reference ON cma.cases(case_reference);
CREATE INDEX idx_appointments_advisor_date ON cma.appointments(advisor_id, scheduled_date);
CREATE INDEX idx_appointments_date_status ON cma.appointments(scheduled_date, status);
CREATE INDEX idx_documents_case_type ON cma.documents(case_id, document_type);
CREATE INDEX idx_documents_ocr_text ON cma.documents USING gin(to_tsvector('english', extracted_text));
CREATE INDEX idx_compliance_case_type ON cma.case_compliance(case_id, compliance_type);

CREATE INDEX idx_creditors_case ON cma.creditors(case_id, centre_id);
CREATE INDEX idx_debts_creditor ON cma.debts(creditor_id, centre_id);
CREATE INDEX idx_budget_sheets_case ON cma.budget_sheets(case_id, centre_id);
CREATE INDEX idx_documents_centre_id ON cma.documents(centre_id);
CREATE INDEX idx_case_notes_case ON cma.case_notes(case_id, centre_id);
CREATE INDEX idx_appointments_client ON cma.appointments(client_id, centre_id);
CREATE INDEX idx_appointments_case ON cma.appointments(case_id, centre_id);
CREATE INDEX idx_appointment_notes_appointment ON cma.appointment_notes(appointment_id, centre_id);
CREATE INDEX idx_compliance_document ON cma.case_compliance(evidence_document_id, centre_id);
CREATE INDEX idx_ai_insights_case ON cma.ai_insights(case_id, centre_id);
CREATE INDEX idx_cases_closed ON cma.cases(closing_date) WHERE status = 'closed';
