//! What tests/cma.rs and tests/cma_access.rs share: the cma pack's tables
//! and the document's columns, a database with centres provisioned by
//! `provision up`, one row in every table for a centre, and the rows of
//! centre data as text for "nothing else changed".
#![allow(dead_code)]

use crate::support::{TestDb, Workspace};

/// The document's tables and those its ER diagram names (debts, case_notes,
/// appointment_notes), in schema cma.
pub const TABLES: [&str; 14] = [
    "ai_insights",
    "appointment_notes",
    "appointments",
    "audit_logs",
    "budget_sheets",
    "case_compliance",
    "case_notes",
    "cases",
    "centres",
    "clients",
    "creditors",
    "debts",
    "documents",
    "users",
];

/// Every column of the document's tables with its type as the catalog spells it (centres.code widened to 56).
pub const DOCUMENT_COLUMNS: [(&str, &str); 11] = [
    (
        "centres",
        "id integer, name character varying(255), code character varying(56), address_line1 character \
         varying(255), address_line2 character varying(255), city character varying(100), postcode character \
         varying(20), phone character varying(20), email character varying(255), manager_id integer, status \
         character varying(20), settings jsonb, created_at timestamp without time zone, updated_at timestamp \
         without time zone",
    ),
    (
        "users",
        "id integer, centre_id integer, username character varying(50), email character varying(255), \
         password_hash character varying(255), first_name character varying(100), last_name character \
         varying(100), role character varying(20), phone character varying(20), hire_date date, \
         qualification_level character varying(50), is_active boolean, last_login timestamp without time \
         zone, settings jsonb, created_at timestamp without time zone, updated_at timestamp without time zone",
    ),
    (
        "clients",
        "id integer, centre_id integer, client_reference character varying(50), title character varying(10), \
         first_name character varying(100), last_name character varying(100), date_of_birth date, \
         national_insurance_number character varying(13), phone_primary character varying(20), \
         phone_secondary character varying(20), email character varying(255), address_line1 character \
         varying(255), address_line2 character varying(255), city character varying(100), postcode character \
         varying(20), marital_status character varying(20), employment_status character varying(50), \
         monthly_income numeric(10,2), dependents integer, vulnerability_flags jsonb, data_consent boolean, \
         data_consent_date timestamp without time zone, gdpr_deletion_request boolean, gdpr_deletion_date \
         timestamp without time zone, created_at timestamp without time zone, updated_at timestamp without \
         time zone, created_by integer, updated_by integer",
    ),
    (
        "cases",
        "id integer, centre_id integer, case_reference character varying(50), client_id integer, advisor_id \
         integer, case_type character varying(50), status character varying(30), priority character \
         varying(10), opening_date date, closing_date date, closure_reason character varying(100), total_debt \
         numeric(12,2), monthly_surplus numeric(8,2), debt_solution character varying(100), fca_outcome \
         character varying(100), compliance_status character varying(30), ai_risk_score numeric(3,2), \
         ai_recommendations jsonb, next_review_date date, created_at timestamp without time zone, updated_at \
         timestamp without time zone, created_by integer, updated_by integer",
    ),
    (
        "creditors",
        "id integer, case_id integer, creditor_name character varying(255), creditor_type character \
         varying(50), account_number character varying(100), original_balance numeric(10,2), current_balance \
         numeric(10,2), monthly_payment numeric(8,2), interest_rate numeric(5,2), arrears_amount \
         numeric(10,2), priority_level character varying(20), contact_name character varying(100), \
         contact_phone character varying(20), contact_email character varying(255), status character \
         varying(30), notes text, created_at timestamp without time zone, updated_at timestamp without time \
         zone",
    ),
    (
        "budget_sheets",
        "id integer, case_id integer, sheet_type character varying(30), total_income numeric(10,2), \
         total_expenses numeric(10,2), surplus_deficit numeric(10,2), income_details jsonb, expense_details \
         jsonb, verification_status character varying(30), verified_by integer, verified_date timestamp \
         without time zone, created_at timestamp without time zone, updated_at timestamp without time zone, \
         created_by integer",
    ),
    (
        "documents",
        "id integer, centre_id integer, case_id integer, document_name character varying(255), document_type \
         character varying(100), file_path character varying(500), file_size bigint, mime_type character \
         varying(100), version_number integer, is_encrypted boolean, encryption_key_id character \
         varying(100), upload_status character varying(30), ocr_status character varying(30), ocr_confidence \
         numeric(3,2), extracted_text text, ai_classification jsonb, access_level character varying(30), \
         retention_date date, created_at timestamp without time zone, created_by integer",
    ),
    (
        "appointments",
        "id integer, centre_id integer, case_id integer, client_id integer, advisor_id integer, \
         appointment_type character varying(50), status character varying(30), scheduled_date date, \
         scheduled_time time without time zone, duration_minutes integer, location character varying(255), \
         meeting_mode character varying(30), preparation_notes text, outcome_summary text, follow_up_required \
         boolean, follow_up_date date, reminder_sent boolean, created_at timestamp without time zone, \
         updated_at timestamp without time zone, created_by integer",
    ),
    (
        "case_compliance",
        "id integer, case_id integer, compliance_type character varying(100), requirement_met boolean, \
         evidence_provided boolean, evidence_document_id integer, check_date date, checked_by integer, notes \
         text, remedial_action text, deadline_date date, created_at timestamp without time zone",
    ),
    (
        "audit_logs",
        "id bigint, centre_id integer, user_id integer, action character varying(100), table_name character \
         varying(100), record_id integer, old_values jsonb, new_values jsonb, ip_address inet, user_agent \
         text, session_id character varying(255), timestamp timestamp without time zone",
    ),
    (
        "ai_insights",
        "id integer, case_id integer, insight_type character varying(100), confidence_score numeric(3,2), \
         analysis_data jsonb, recommendations jsonb, model_version character varying(50), processed_date \
         timestamp without time zone, status character varying(30), feedback_rating integer, feedback_notes \
         text",
    ),
];

/// A workspace declaring centres `codes` of the cma pack (codes unique per
/// test: roles are cluster-wide and tests run side by side).
pub fn centres_workspace(codes: &[&str]) -> Workspace {
    let toml: String = codes
        .iter()
        .map(|code| {
            format!(
                "[tenants.{code}]\nname = \"{} Centre\"\nblueprint = \"cma\"\n\
                 [tenants.{code}.attributes]\ncity = \"Leeds\"\npostcode = \"LS1 1AA\"\n",
                code.to_uppercase()
            )
        })
        .collect();
    Workspace::new(&toml)
}

pub fn provisioned(codes: &[&str]) -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = centres_workspace(codes);
    db.provision().in_workspace(&ws).arg("up").success();
    (db, ws)
}

/// One row in every table for centre `code`, as the superuser (policies do
/// not apply; the composite keys do): a manager and an advisor, a client with
/// a closed case, a creditor with a debt, a budget sheet, a document, notes,
/// an appointment with a note, a compliance check and an insight.
pub fn fill(db: &TestDb, code: &str) {
    let centre = format!("(SELECT id FROM cma.centres WHERE code = '{code}')");
    let user = |name: &str| format!("(SELECT id FROM cma.users WHERE username = '{name}' AND centre_id = {centre})");
    let case = format!("(SELECT id FROM cma.cases WHERE case_reference = 'CASE-1' AND centre_id = {centre})");
    let client = format!("(SELECT id FROM cma.clients WHERE client_reference = 'CL-1' AND centre_id = {centre})");
    let creditor = format!("(SELECT id FROM cma.creditors WHERE case_id = {case})");
    let appointment = format!("(SELECT id FROM cma.appointments WHERE client_id = {client})");
    let document = format!("(SELECT id FROM cma.documents WHERE case_id = {case})");
    let (manager, advisor) = (user("manager"), user("advisor"));
    db.execute(&format!(
        "INSERT INTO cma.users (centre_id, username, email, password_hash, role)
           VALUES ({centre}, 'manager', 'manager@{code}.example', 'x', 'manager'),
                  ({centre}, 'advisor', 'advisor@{code}.example', 'x', 'advisor');
         UPDATE cma.centres SET manager_id = {manager} WHERE code = '{code}';
         INSERT INTO cma.clients (centre_id, client_reference, first_name, last_name, email, date_of_birth)
           VALUES ({centre}, 'CL-1', 'Ada', 'Lovelace', 'ada@{code}.example', '1980-01-01');
         INSERT INTO cma.cases (centre_id, case_reference, client_id, advisor_id, case_type, status, closing_date)
           VALUES ({centre}, 'CASE-1', {client}, {advisor}, 'debt_advice', 'closed', '2020-01-31');
         INSERT INTO cma.creditors (centre_id, case_id, creditor_name, current_balance)
           VALUES ({centre}, {case}, 'Big Bank', 1200);
         INSERT INTO cma.debts (centre_id, creditor_id, debt_type, balance)
           VALUES ({centre}, {creditor}, 'credit_card', 1200);
         INSERT INTO cma.budget_sheets (centre_id, case_id, total_income, total_expenses, verified_by)
           VALUES ({centre}, {case}, 1500.50, 1700.25, {manager});
         INSERT INTO cma.documents (centre_id, case_id, document_name, extracted_text)
           VALUES ({centre}, {case}, 'statement.pdf', 'final demand for the overdue council tax');
         INSERT INTO cma.case_notes (centre_id, case_id, content) VALUES ({centre}, {case}, 'called the client');
         INSERT INTO cma.appointments (centre_id, case_id, client_id, advisor_id, appointment_type, scheduled_date,
                                       scheduled_time)
           VALUES ({centre}, {case}, {client}, {advisor}, 'initial', '2020-01-10', '10:00');
         INSERT INTO cma.appointment_notes (centre_id, appointment_id, content)
           VALUES ({centre}, {appointment}, 'bring bank statements');
         INSERT INTO cma.case_compliance (centre_id, case_id, compliance_type, evidence_document_id, checked_by)
           VALUES ({centre}, {case}, 'fact_find', {document}, {manager});
         INSERT INTO cma.ai_insights (centre_id, case_id, insight_type, analysis_data, feedback_rating)
           VALUES ({centre}, {case}, 'risk', '{{\"score\": 0.4}}', 4);"
    ));
}

/// Every row of the pack's centre data, one line each, for "nothing else changed".
pub fn all_rows(db: &TestDb) -> Vec<String> {
    let selects: Vec<String> = TABLES
        .iter()
        .filter(|t| !matches!(**t, "audit_logs" | "centres"))
        .map(|t| format!("SELECT '{t} ' || centre_id || ' ' || x::text FROM cma.{t} x"))
        .collect();
    db.strings(&format!("{} ORDER BY 1", selects.join(" UNION ALL ")))
}

/// The id of centre `code`.
pub fn centre_id(db: &TestDb, code: &str) -> String {
    db.scalar(&format!("SELECT id::text FROM cma.centres WHERE code = '{code}'"))
}

/// The id of user `username` of centre `code`.
pub fn user_id(db: &TestDb, code: &str, username: &str) -> String {
    db.scalar(&format!(
        "SELECT u.id::text FROM cma.users u JOIN cma.centres c ON c.id = u.centre_id \
         WHERE c.code = '{code}' AND u.username = '{username}'"
    ))
}
