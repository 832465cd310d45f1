//! The cma pack (seed 003, debt advice centres), a ROW-tenancy pack, proved
//! on real PostgreSQL: `provision up` with two centres makes schema cma with
//! the document's tables, columns, CHECKs and indexes (the GIN full-text
//! index, the GENERATED surplus_deficit) and a centre row each; every table
//! of centre data carries centre_id under forced RLS with a restrictive
//! policy, and references its parents by (id, centre_id), so a cross-centre
//! link fails even for the superuser; triggers stamp who changed a row and
//! when and write the audit trail, which is append-only; retention deletes
//! closed cases and their financial rows after their periods and
//! anonymises clients (GDPR requests on the next run), one centre at a time.
//! Login-based isolation is in tests/cma_access.rs.

mod support;

mod cma_common;

use cma_common::*;

#[test]
fn up_makes_every_table_column_check_and_index_of_the_document_and_a_row_per_centre() {
    let (db, _ws) = provisioned(&["north1", "south1"]);
    let tables = db.strings(
        "SELECT relname::text FROM pg_class WHERE relnamespace = 'cma'::regnamespace AND relkind = 'r' ORDER BY 1",
    );
    assert_eq!(tables, TABLES);
    assert_eq!(
        db.strings("SELECT code || ' ' || name || ' ' || city || ' ' || postcode || ' ' || status FROM cma.centres ORDER BY code"),
        ["north1 NORTH1 Centre Leeds LS1 1AA active", "south1 SOUTH1 Centre Leeds LS1 1AA active"]
    );
    // Every column of the document, with its type.
    for (table, wanted) in DOCUMENT_COLUMNS {
        let found = db.strings(&format!(
            "SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'cma.{table}'::regclass AND attnum > 0 AND NOT attisdropped"
        ));
        for column in wanted.split(", ") {
            assert!(found.iter().any(|c| c == column), "cma.{table}: {column} missing: {found:?}");
        }
    }
    // The columns the pack adds (centre keys, audit fields, soft deletes) and the tables it defines.
    let columns = |table: &str| {
        db.strings(&format!(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = 'cma.{table}'::regclass AND attnum > 0 \
             AND NOT attisdropped ORDER BY attnum"
        ))
    };
    for (table, wanted) in [
        ("centres", &["id", "name", "code", "city", "postcode", "manager_id", "status", "settings", "deleted_at"][..]),
        ("users", &["centre_id", "username", "email", "password_hash", "role", "qualification_level", "deleted_at"]),
        ("clients", &["client_reference", "national_insurance_number", "vulnerability_flags", "gdpr_deletion_request"]),
        ("cases", &["case_reference", "client_id", "advisor_id", "ai_risk_score", "next_review_date", "updated_by"]),
        ("creditors", &["centre_id", "case_id", "creditor_name", "interest_rate", "arrears_amount", "notes"]),
        ("debts", &["centre_id", "creditor_id", "debt_type", "balance", "status"]),
        ("budget_sheets", &["centre_id", "case_id", "surplus_deficit", "income_details", "verified_by"]),
        ("documents", &["centre_id", "case_id", "extracted_text", "ai_classification", "retention_date"]),
        ("appointments", &["scheduled_date", "scheduled_time", "meeting_mode", "follow_up_date", "reminder_sent"]),
        ("appointment_notes", &["centre_id", "appointment_id", "content"]),
        ("case_notes", &["centre_id", "case_id", "content"]),
        ("case_compliance", &["centre_id", "case_id", "evidence_document_id", "checked_by", "deadline_date"]),
        ("audit_logs", &["centre_id", "user_id", "action", "record_id", "old_values", "ip_address", "timestamp"]),
        ("ai_insights", &["centre_id", "case_id", "confidence_score", "feedback_rating", "feedback_notes"]),
    ] {
        let found = columns(table);
        for column in wanted {
            assert!(found.iter().any(|c| c == column), "cma.{table}.{column} missing: {found:?}");
        }
    }
    assert_eq!(
        db.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'cma.centres'::regclass AND attname = 'code'"),
        "character varying(56)"
    );
    assert_eq!(
        db.scalar(
            "SELECT attgenerated::text || ' ' || pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a \
                   JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                   WHERE a.attrelid = 'cma.budget_sheets'::regclass AND a.attname = 'surplus_deficit'"
        ),
        "s (total_income - total_expenses)"
    );
    // The document's CHECKs.
    let checks = db.strings(
        "SELECT conrelid::regclass::text || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE connamespace = 'cma'::regnamespace AND contype = 'c' ORDER BY 1",
    );
    for wanted in [
        "cma.users: CHECK (((role)::text = ANY ((ARRAY['admin'::character varying, 'advisor'::character varying, 'manager'::character varying, 'trainee'::character varying])::text[])))",
        "cma.ai_insights: CHECK (((feedback_rating >= 1) AND (feedback_rating <= 5)))",
    ] {
        assert!(checks.iter().any(|c| c == wanted), "{wanted} missing: {checks:#?}");
    }
    for (table, column) in [("cases", "status"), ("cases", "priority"), ("budget_sheets", "sheet_type")] {
        assert!(
            checks.iter().any(|c| c.starts_with(&format!("cma.{table}: CHECK ((({column})"))),
            "{table}.{column} CHECK missing: {checks:#?}"
        );
    }
    // The document's indexes, the full-text one a GIN on to_tsvector('english', extracted_text).
    let indexes = db.strings(
        "SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
         WHERE c.relnamespace = 'cma'::regnamespace ORDER BY 1",
    );
    for name in [
        "idx_cases_centre_id",
        "idx_users_centre_id",
        "idx_clients_centre_id",
        "idx_appointments_centre_id",
        "idx_cases_advisor_status",
        "idx_cases_client_id",
        "idx_cases_reference",
        "idx_appointments_advisor_date",
        "idx_appointments_date_status",
        "idx_documents_case_type",
        "idx_documents_ocr_text",
        "idx_audit_logs_user_timestamp",
        "idx_compliance_case_type",
    ] {
        assert!(indexes.iter().any(|i| i == &format!("cma.{name}")), "{name} missing: {indexes:?}");
    }
    assert_eq!(
        db.scalar("SELECT pg_get_indexdef('cma.idx_documents_ocr_text'::regclass)"),
        "CREATE INDEX idx_documents_ocr_text ON cma.documents USING gin (to_tsvector('english'::regconfig, extracted_text))"
    );
}

#[test]
fn every_table_of_centre_data_has_centre_id_composite_keys_forced_rls_and_a_restrictive_policy() {
    let (db, ws) = provisioned(&["north2"]);
    // verify (row tenancy) finds the pack clean, and names a table whose centre policy is gone.
    db.provision().in_workspace(&ws).arg("verify").success();
    db.execute("BEGIN; DROP POLICY debts_centre ON cma.debts; COMMIT;");
    db.provision().in_workspace(&ws).arg("verify").status(1).stdout_has("cma.debts");
    db.execute(
        "CREATE POLICY debts_centre ON cma.debts AS RESTRICTIVE USING (centre_id = (SELECT cma.current_centre()))",
    );
    for table in TABLES.iter().filter(|t| **t != "centres") {
        let rel = format!("'cma.{table}'::regclass");
        assert_eq!(
            db.scalar(&format!(
                "SELECT attnotnull::text FROM pg_attribute WHERE attrelid = {rel} AND attname = 'centre_id'"
            )),
            if *table == "audit_logs" { "false" } else { "true" },
            "{table}.centre_id"
        );
        assert_eq!(
            db.scalar(&format!(
                "SELECT relrowsecurity::text || relforcerowsecurity::text FROM pg_class WHERE oid = {rel}"
            )),
            "truetrue",
            "{table}: RLS enabled and forced"
        );
        assert_eq!(
            db.scalar(&format!(
                "SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = {rel} AND NOT polpermissive"
            )),
            "(centre_id = ( SELECT cma.current_centre() AS current_centre))",
            "{table}: the restrictive centre policy"
        );
        // Every foreign key to another table of centre data is (x, centre_id) -> (id, centre_id).
        let single = db.strings(&format!(
            "SELECT conname::text FROM pg_constraint WHERE conrelid = {rel} AND contype = 'f' \
             AND confrelid <> 'cma.centres'::regclass AND NOT (array_length(conkey, 1) = 2 \
             AND (SELECT attnum FROM pg_attribute WHERE attrelid = conrelid AND attname = 'centre_id') = conkey[2])"
        ));
        assert!(single.is_empty(), "{table}: foreign keys not through centre_id: {single:?}");
    }
    assert_eq!(
        db.scalar(
            "SELECT count(*)::text FROM pg_constraint WHERE conrelid = 'cma.audit_logs'::regclass AND contype = 'f'"
        ),
        "0",
        "the audit trail has no foreign key"
    );
    assert_eq!(
        db.scalar("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'centres_manager_fkey'"),
        "FOREIGN KEY (manager_id, id) REFERENCES cma.users(id, centre_id) ON DELETE SET NULL (manager_id)"
    );
    let composite = db.strings(
        "SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE contype = 'f' AND conrelid = 'cma.cases'::regclass ORDER BY 1",
    );
    assert!(
        composite
            .contains(&"cma.cases FOREIGN KEY (client_id, centre_id) REFERENCES cma.clients(id, centre_id)".to_owned()),
        "{composite:#?}"
    );
    assert_eq!(
        db.scalar("SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'cma.centres'::regclass AND NOT polpermissive"),
        "((id = (NULLIF(current_setting('app.centre_id'::text, true), ''::text))::integer) AND shared.tenant_role_member((code)::text))"
    );
}

#[test]
fn surplus_deficit_is_computed_and_a_cross_centre_link_fails_even_for_the_superuser() {
    let (db, _ws) = provisioned(&["north3", "south3"]);
    fill(&db, "north3");
    fill(&db, "south3");
    assert_eq!(db.scalar("SELECT surplus_deficit::text FROM cma.budget_sheets LIMIT 1"), "-199.75");
    // The document's defaults.
    for (sql, wanted) in [
        ("SELECT concat_ws(' ', priority, compliance_status, ai_recommendations) FROM cma.cases", "medium pending []"),
        ("SELECT concat_ws(' ', dependents, vulnerability_flags, data_consent, gdpr_deletion_request) FROM cma.clients",
         "0 [] f f"),
        ("SELECT concat_ws(' ', priority_level, status) FROM cma.creditors", "non-priority active"),
        ("SELECT concat_ws(' ', sheet_type, verification_status, income_details) FROM cma.budget_sheets",
         "initial unverified {}"),
        ("SELECT concat_ws(' ', version_number, is_encrypted, upload_status, ocr_status, access_level) FROM cma.documents",
         "1 f pending not_processed case_team"),
        ("SELECT concat_ws(' ', status, duration_minutes, meeting_mode, follow_up_required) FROM cma.appointments",
         "scheduled 60 in_person f"),
        ("SELECT concat_ws(' ', requirement_met, evidence_provided, check_date = CURRENT_DATE) FROM cma.case_compliance",
         "f f t"),
        ("SELECT concat_ws(' ', status, recommendations) FROM cma.ai_insights", "active []"),
        ("SELECT concat_ws(' ', status, settings) FROM cma.centres", "active {}"),
        ("SELECT concat_ws(' ', is_active, settings) FROM cma.users", "t {}"),
    ] {
        assert_eq!(db.strings(sql).first().map(String::as_str), Some(wanted), "{sql}");
    }
    assert_eq!(
        db.scalar(
            "SELECT count(*)::text FROM cma.documents \
             WHERE to_tsvector('english', extracted_text) @@ to_tsquery('english', 'demands & council')"
        ),
        "2"
    );
    let south_client =
        "(SELECT c.id FROM cma.clients c JOIN cma.centres x ON x.id = c.centre_id WHERE x.code = 'south3')";
    let north = "(SELECT id FROM cma.centres WHERE code = 'north3')";
    let north_advisor = format!("(SELECT id FROM cma.users WHERE username = 'advisor' AND centre_id = {north})");
    db.with(async |c| {
        let insert = format!(
            "INSERT INTO cma.cases (centre_id, case_reference, client_id, advisor_id, case_type) \
             VALUES ({north}, 'X-1', {south_client}, {north_advisor}, 'debt_advice')"
        );
        let err = c.batch_execute(&insert).await.unwrap_err();
        assert_eq!(err.code(), Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION), "{err:?}");
        // Moving a case's client to the other centre's fails the same way.
        let update = format!("UPDATE cma.cases SET client_id = {south_client} WHERE centre_id = {north}");
        let err = c.batch_execute(&update).await.unwrap_err();
        assert_eq!(err.code(), Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION), "{err:?}");
        // A centre's manager must work there.
        let south_manager = "(SELECT u.id FROM cma.users u JOIN cma.centres x ON x.id = u.centre_id \
                             WHERE x.code = 'south3' AND u.username = 'manager')";
        let err = c
            .batch_execute(&format!("UPDATE cma.centres SET manager_id = {south_manager} WHERE code = 'north3'"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION), "{err:?}");
    });
    // Removing the manager clears the centre's manager_id and the checks' and sheets' verifier, nothing else.
    db.execute(&format!("DELETE FROM cma.users WHERE username = 'manager' AND centre_id = {north}"));
    assert_eq!(
        db.strings("SELECT code || ' ' || coalesce(manager_id::text, '-') FROM cma.centres ORDER BY code")[0],
        "north3 -"
    );
    assert_eq!(
        db.strings("SELECT coalesce(verified_by::text, '-') FROM cma.budget_sheets b JOIN cma.centres x ON x.id = b.centre_id ORDER BY x.code"),
        ["-", db.scalar("SELECT u.id::text FROM cma.users u JOIN cma.centres x ON x.id = u.centre_id WHERE x.code = 'south3' AND u.username = 'manager'").as_str()]
    );
    assert_eq!(db.scalar("SELECT count(*)::text FROM cma.case_compliance"), "2");
}

#[test]
fn retention_removes_closed_cases_and_financial_rows_and_anonymises_clients_one_centre_at_a_time() {
    let (db, ws) = provisioned(&["north4", "south4"]);
    fill(&db, "north4");
    fill(&db, "south4");
    // Time passes: the financial rows last changed in 2020, the client in 2019 (triggers off, or they would stamp now);
    // each centre has a 2010 audit row and a client who asked to be forgotten (their record changed in 2026).
    db.execute(
        "SET session_replication_role = replica;
         UPDATE cma.creditors SET updated_at = '2020-01-01';
         UPDATE cma.debts SET updated_at = '2020-01-01';
         UPDATE cma.budget_sheets SET updated_at = '2020-01-01';
         UPDATE cma.clients SET updated_at = '2019-01-01';
         SET session_replication_role = origin;
         INSERT INTO cma.audit_logs (centre_id, action, timestamp) SELECT id, 'LOGIN', '2010-05-01' FROM cma.centres;
         INSERT INTO cma.clients (centre_id, client_reference, first_name, last_name, email, gdpr_deletion_request)
           SELECT id, 'CL-2', 'Alan', 'Turing', 'alan@example.org', true FROM cma.centres;
         SET session_replication_role = replica;
         UPDATE cma.clients SET updated_at = '2026-01-01' WHERE client_reference = 'CL-2';
         SET session_replication_role = origin;",
    );
    let before = all_rows(&db);
    let south = db.scalar("SELECT id::text FROM cma.centres WHERE code = 'south4'");
    // By mid-2026 the case is 6 years closed, but its financial rows are not 7 years old: it stays, with them.
    let early = ["retention", "run", "--tenant", "north4", "--now", "2026-06-01"];
    db.provision().in_workspace(&ws).args(early).success();
    let kept = db.strings(
        "SELECT x.case_reference FROM cma.cases x JOIN cma.creditors r ON (r.case_id, r.centre_id) = (x.id, x.centre_id) \
         JOIN cma.centres y ON y.id = x.centre_id WHERE y.code = 'north4'",
    );
    assert_eq!(kept, ["CASE-1"]);
    let run = ["retention", "run", "--tenant", "north4", "--now", "2027-06-01"];
    db.provision().in_workspace(&ws).args(run).success();
    // North: the closed case (6 years from 2020-01-31) went once its financial rows (7 years from 2020) had, with its
    // documents, notes, checks and insights; the appointment stays without its case.
    let counts = |code: &str| {
        let of = |t: &str| {
            format!("SELECT '{t} ' || count(*) FROM cma.{t} x JOIN cma.centres y ON y.id = x.centre_id WHERE y.code = '{code}'")
        };
        let tables = [
            "cases",
            "creditors",
            "debts",
            "budget_sheets",
            "documents",
            "case_notes",
            "case_compliance",
            "ai_insights",
        ];
        db.strings(&tables.map(of).join(" UNION ALL "))
    };
    let gone = [
        "cases 0",
        "creditors 0",
        "debts 0",
        "budget_sheets 0",
        "documents 0",
        "case_notes 0",
        "case_compliance 0",
        "ai_insights 0",
    ];
    let north_left = counts("north4");
    assert_eq!(north_left, gone);
    assert_eq!(counts("south4"), gone.map(|g| g.replace('0', "1")));
    assert_eq!(
        db.scalar("SELECT coalesce(a.case_id::text, '-') FROM cma.appointments a JOIN cma.centres y ON y.id = a.centre_id WHERE y.code = 'north4'"),
        "-"
    );
    // North's clients: the dormant one (6 years) and the one who asked, anonymised; references kept.
    let clients = db.strings(
        "SELECT c.client_reference || ' ' || (c.first_name ~ '^anon:[0-9a-f]{32}$')::text || ' ' \
                || coalesce(c.email, '-') || ' ' || coalesce(c.date_of_birth::text, '-') \
         FROM cma.clients c JOIN cma.centres y ON y.id = c.centre_id WHERE y.code = 'north4' ORDER BY 1",
    );
    assert_eq!(clients, ["CL-1 true - -", "CL-2 true - -"]);
    assert_eq!(
        db.strings("SELECT y.code FROM cma.audit_logs a JOIN cma.centres y ON y.id = a.centre_id WHERE a.timestamp < '2011-01-01' ORDER BY 1"),
        ["south4"],
        "north's 2010 audit row went (10 years), south's stays"
    );
    // South untouched, row for row.
    let south_rows = |rows: &[String]| -> Vec<String> {
        rows.iter().filter(|r| r.split(' ').nth(1) == Some(south.as_str())).cloned().collect()
    };
    assert_eq!(south_rows(&all_rows(&db)), south_rows(&before));
    // A second run changes nothing.
    let after = all_rows(&db);
    db.provision().in_workspace(&ws).args(run).success();
    assert_eq!(all_rows(&db), after);
    // A client who asks now is anonymised by the next run on the real clock.
    db.execute(
        "INSERT INTO cma.clients (centre_id, client_reference, first_name, last_name, email, gdpr_deletion_request) \
         SELECT id, 'CL-3', 'Mary', 'Somerville', 'mary@example.org', true FROM cma.centres WHERE code = 'north4'",
    );
    db.provision().in_workspace(&ws).args(["retention", "run", "--tenant", "north4"]).success();
    assert_eq!(
        db.scalar(
            "SELECT (first_name ~ '^anon:' AND email IS NULL)::text FROM cma.clients WHERE client_reference = 'CL-3'"
        ),
        "true"
    );
    // A run for every centre takes south's too.
    db.provision().in_workspace(&ws).args(["retention", "run", "--now", "2027-06-01"]).success();
    assert_eq!(db.scalar("SELECT count(*)::text FROM cma.cases"), "0");
    assert_eq!(db.scalar("SELECT count(*)::text FROM cma.clients WHERE first_name !~ '^anon:'"), "0");
}

#[test]
fn seed_loads_one_centres_sample_with_no_known_password_and_a_rerun_adds_nothing() {
    let (db, ws) = provisioned(&["north6", "south6"]);
    db.provision().in_workspace(&ws).args(["seed", "--tenant", "north6", "--size", "20"]).success();
    let per_centre = || {
        let tables = TABLES.iter().filter(|t| !matches!(**t, "centres" | "audit_logs"));
        let selects: Vec<String> = tables
            .map(|t| {
                format!(
                    "SELECT '{t} ' || y.code || ' ' || count(x.centre_id) FROM cma.centres y \
                     LEFT JOIN cma.{t} x ON x.centre_id = y.id GROUP BY y.code"
                )
            })
            .collect();
        db.strings(&format!("{} ORDER BY 1", selects.join(" UNION ALL ")))
    };
    let counts = per_centre();
    for line in &counts {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts[1] {
            "north6" => assert_ne!(parts[2], "0", "{line}: the seeded centre has rows in every table"),
            _ => assert_eq!(parts[2], "0", "{line}: the other centre gets none"),
        }
    }
    assert!(counts.contains(&"clients north6 20".to_owned()), "{counts:?}");
    assert!(counts.contains(&"users north6 4".to_owned()), "a manager, two advisors, a trainee: {counts:?}");
    // bcrypt hashes, all different: of random secrets nobody was given.
    assert_eq!(
        db.scalar("SELECT count(DISTINCT password_hash)::text FROM cma.users WHERE password_hash ~ '^\\$2a\\$08\\$'"),
        "4"
    );
    assert_eq!(
        db.scalar(
            "SELECT u.username FROM cma.centres c JOIN cma.users u ON u.id = c.manager_id WHERE c.code = 'north6'"
        ),
        "manager"
    );
    db.provision().in_workspace(&ws).args(["seed", "--tenant", "north6", "--size", "20"]).success();
    assert_eq!(per_centre(), counts, "a rerun adds nothing");
}

#[test]
fn tenant_remove_deletes_only_its_centres_rows_keeps_its_audit_trail_and_its_backup_restores_them() {
    let (db, ws) = provisioned(&["north7", "south7"]);
    fill(&db, "north7");
    fill(&db, "south7");
    let north = db.scalar("SELECT id::text FROM cma.centres WHERE code = 'north7'");
    let south = db.scalar("SELECT id::text FROM cma.centres WHERE code = 'south7'");
    let of = |rows: Vec<String>, id: &str| -> Vec<String> {
        rows.into_iter().filter(|r| r.split(' ').nth(1) == Some(id)).collect()
    };
    let south_before = of(all_rows(&db), &south);
    let trail = |id: &str| db.scalar(&format!("SELECT count(*)::text FROM cma.audit_logs WHERE centre_id = {id}"));
    let north_trail: i64 = trail(&north).parse().unwrap();
    assert!(north_trail > 10, "the fill was audited: {north_trail}");
    let before = all_rows(&db);
    let centres_before = db.strings("SELECT c::text FROM cma.centres c ORDER BY id");
    let file = ws.path().join("north7-final.sql");
    db.provision().in_workspace(&ws).args(["tenant", "remove", "north7", "--yes", "--backup-out"]).arg(&file).success();
    assert!(of(all_rows(&db), &north).is_empty(), "north's rows are gone");
    assert_eq!(db.strings("SELECT code FROM cma.centres"), ["south7"]);
    assert_eq!(of(all_rows(&db), &south), south_before, "south's rows are untouched");
    let kept: i64 = trail(&north).parse().unwrap();
    assert!(kept >= north_trail, "north's audit trail stays ({kept} rows)");
    // The final backup restores exactly what was there (the manager cycle and composite keys included).
    let restore = std::process::Command::new("psql")
        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    assert_eq!(all_rows(&db), before);
    assert_eq!(db.strings("SELECT c::text FROM cma.centres c ORDER BY id"), centres_before);
}
