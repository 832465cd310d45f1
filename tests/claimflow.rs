//! The ClaimFlow pack (templates/claimflow, seed 004) against real PostgreSQL:
//! its tables, types and indexes in the catalog, the shared CPT/ICD codes,
//! tenant isolation for real LOGIN roles granted with `tenant grant`,
//! ciphertext-only personal columns, the append-only activity log, verify,
//! and a sample without fixed passwords. Per-user access within a tenant is
//! tests/claimflow_access.rs.

mod claimflow_common;
mod support;

use claimflow_common::*;
use support::{TestDb, Workspace};
use tokio_postgres::error::SqlState;

/// Every enum of the pack with its labels in order.
const TYPES: &[(&str, &str)] = &[
    ("appeal_status", "draft,submitted,under_review,upheld,overturned,withdrawn"),
    (
        "claim_status",
        "draft,submitted,in_review,needs_information,approved,partially_approved,denied,appealed,paid,closed",
    ),
    ("document_access", "owner_and_staff,staff_only"),
    (
        "document_type",
        "insurance_card_front,insurance_card_back,medical_bill,receipt,explanation_of_benefits,medical_record,\
         prescription,appeal_letter,other",
    ),
    ("notification_channel", "in_app,email,sms,push"),
    ("notification_type", "claim_status,document_request,appeal_update,security,system"),
    ("ocr_status", "pending,processing,completed,failed"),
    ("user_role", "claimant,reviewer,admin"),
    ("card_verification_status", "pending,verified,rejected,expired"),
];

const INDEXES: &[&str] = &[
    "appeals_appeal_number_key",
    "appeals_claim_idx",
    "appeals_pkey",
    "appeals_user_status_idx",
    "audit_logs_action_created_idx",
    "audit_logs_entity_idx",
    "audit_logs_pkey",
    "audit_logs_user_created_idx",
    "claim_timeline_claim_created_idx",
    "claim_timeline_pkey",
    "claims_claim_number_key",
    "claims_cpt_codes_idx",
    "claims_icd_codes_idx",
    "claims_insurance_profile_idx",
    "claims_pkey",
    "claims_reviewer_idx",
    "claims_status_submitted_idx",
    "claims_user_status_idx",
    "documents_claim_idx",
    "documents_insurance_profile_idx",
    "documents_ocr_pending_idx",
    "documents_pkey",
    "documents_storage_bucket_storage_key_key",
    "documents_user_idx",
    "insurance_profiles_one_primary",
    "insurance_profiles_pkey",
    "insurance_profiles_user_idx",
    "insurance_profiles_verification_idx",
    "notifications_pkey",
    "notifications_unread_idx",
    "notifications_user_created_idx",
    "sessions_expires_idx",
    "sessions_pkey",
    "sessions_refresh_token_hash_key",
    "sessions_token_hash_key",
    "sessions_user_idx",
    "system_config_pkey",
    "users_email_key",
    "users_pkey",
    "users_role_idx",
];

#[test]
fn every_table_type_and_index_of_the_pack_exists() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    let tables = db.strings(
        "SELECT relname::text FROM pg_class WHERE relnamespace = 'acme_schema'::regnamespace \
         AND relkind IN ('r', 'p') AND NOT relispartition AND relname <> 'refinery_schema_history' ORDER BY 1",
    );
    assert_eq!(tables, TABLES);
    for (name, labels) in TYPES {
        let found = db.scalar(&format!(
            "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum \
             WHERE enumtypid = 'acme_schema.{name}'::regtype"
        ));
        assert_eq!(&found, labels, "enum acme_schema.{name}");
    }
    let indexes = db.strings(
        "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
         WHERE c.relnamespace = 'acme_schema'::regnamespace AND NOT t.relispartition \
         AND t.relname <> 'refinery_schema_history' ORDER BY 1",
    );
    assert_eq!(indexes, INDEXES);
    let encrypted = db.strings(
        "SELECT attrelid::regclass::text || '.' || attname FROM pg_attribute \
         WHERE atttypid = 'shared.ciphertext'::regtype AND attrelid::regclass::text LIKE 'acme_schema.%' ORDER BY 1",
    );
    assert_eq!(
        encrypted,
        [
            "acme_schema.documents.ocr_text",
            "acme_schema.insurance_profiles.group_number",
            "acme_schema.insurance_profiles.member_id",
            "acme_schema.insurance_profiles.ocr_raw_text",
            "acme_schema.insurance_profiles.subscriber_name",
            "acme_schema.users.address",
            "acme_schema.users.first_name",
            "acme_schema.users.last_name",
            "acme_schema.users.phone",
            "acme_schema.users.two_factor_secret",
        ]
    );
    let forced = db.scalar(
        "SELECT count(*)::text FROM pg_class WHERE relnamespace = 'acme_schema'::regnamespace \
         AND relkind IN ('r', 'p') AND relrowsecurity AND relforcerowsecurity",
    );
    assert!(forced.parse::<usize>().unwrap() > TABLES.len(), "every table and audit_logs partition: {forced}");
}

#[test]
fn the_shared_codes_are_real_icd10cm_and_cpt_without_ama_descriptors() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    let icd: i64 = db.scalar("SELECT count(*)::text FROM claimflow_codes.icd10cm_codes").parse().unwrap();
    assert!(icd >= 500, "a few hundred ICD-10-CM codes, got {icd}");
    // Official descriptions, as the CMS tabular list prints them.
    let known = db.strings(
        "SELECT code || ' ' || description FROM claimflow_codes.icd10cm_codes \
         WHERE code IN ('E11.9', 'I10', 'J45.909', 'Z00.00') ORDER BY code",
    );
    assert_eq!(
        known,
        [
            "E11.9 Type 2 diabetes mellitus without complications",
            "I10 Essential (primary) hypertension",
            "J45.909 Unspecified asthma, uncomplicated",
            "Z00.00 Encounter for general adult medical examination without abnormal findings",
        ]
    );
    let not_synthetic = db.scalar(
        "SELECT count(*)::text FROM claimflow_codes.cpt_codes \
         WHERE NOT description_is_synthetic OR description NOT LIKE 'Synthetic description of CPT %'",
    );
    assert_eq!(not_synthetic, "0");
    assert_ne!(db.scalar("SELECT count(*)::text FROM claimflow_codes.cpt_codes"), "0");
}

#[test]
fn a_tenant_login_sees_nothing_without_its_setting_and_nothing_of_another_tenant() {
    let (db, _ws, login, acme_id) = setup();
    let beta_id = tenant_id(&db, "beta");
    db.as_login(&login, PASSWORD, async |c| {
        for table in TABLES {
            let sql = format!("SELECT 1 FROM acme_schema.{table}");
            assert_eq!(count(c, &sql).await, 0, "unset settings: {table}");
        }
        act_as(c, "", "").await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims").await, 0, "empty settings");
        act_as(c, &acme_id, "").await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims").await, 0, "a tenant but no user");
        act_as(c, &acme_id, REVIEWER).await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims").await, 2, "staff of acme");
        act_as(c, &beta_id, REVIEWER).await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims").await, 0, "beta's id in acme's schema");
        let err = c
            .batch_execute(
                "INSERT INTO acme_schema.claims (claim_number, user_id, service_date, billed_amount) \
                            VALUES ('T-9', '00000000-0000-4000-8000-000000000003', '2026-02-01', 1)",
            )
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "WITH CHECK: {err:?}");
        let err = c.query("SELECT 1 FROM beta_schema.claims", &[]).await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "beta's schema: {err:?}");
    });
}

#[test]
fn plaintext_is_refused_in_every_encrypted_column() {
    let (db, _ws, login, acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        act_as(c, &acme_id, REVIEWER).await;
        for (table, column) in [
            ("users", "first_name"),
            ("users", "phone"),
            ("users", "address"),
            ("insurance_profiles", "member_id"),
            ("documents", "ocr_text"),
        ] {
            let sql = format!("UPDATE acme_schema.{table} SET {column} = 'plain text' WHERE true");
            let err = c.batch_execute(&sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::CHECK_VIOLATION, "{table}.{column}: {err:?}");
        }
        let err =
            c.batch_execute("UPDATE acme_schema.users SET password_hash = 'Demo123!' WHERE true").await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::CHECK_VIOLATION, "a plaintext password: {err:?}");
        act_as(c, &acme_id, USER_1).await;
        c.batch_execute(
            "UPDATE acme_schema.users SET phone = shared.encrypt('+15550100', 'test-key-0123456789abcdef0123456789') \
             WHERE email = 'u1@test.example'",
        )
        .await
        .expect("ciphertext is accepted");
    });
    let stored = db.scalar("SELECT phone FROM acme_schema.users WHERE email = 'u1@test.example'");
    assert!(stored.starts_with("enc1:") && !stored.contains("5550100"), "{stored}");
}

#[test]
fn the_activity_log_is_append_only_for_everyone() {
    let (db, _ws, login, acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        act_as(c, &acme_id, REVIEWER).await;
        c.batch_execute("INSERT INTO acme_schema.audit_logs (user_id, action) VALUES (NULL, 'LOGIN')").await.unwrap();
        for sql in ["UPDATE acme_schema.audit_logs SET action = 'X'", "DELETE FROM acme_schema.audit_logs"] {
            let err = c.batch_execute(sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {err:?}");
        }
    });
    // Not even the superuser, through the parent or a partition.
    let partition =
        db.scalar("SELECT tableoid::regclass::text FROM acme_schema.audit_logs WHERE action = 'LOGIN' LIMIT 1");
    for sql in [
        "DELETE FROM acme_schema.audit_logs".to_owned(),
        format!("UPDATE {partition} SET action = 'X'"),
        format!("DELETE FROM {partition}"),
    ] {
        let refused = db.with(async |c| c.batch_execute(&sql).await);
        let err = refused.expect_err(&sql);
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {err:?}");
    }
    assert_eq!(db.scalar("SELECT count(*)::text FROM acme_schema.audit_logs"), "3");
}

#[test]
fn verify_is_clean_after_up_and_names_a_planted_drift() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision().in_workspace(&ws).arg("verify").success();
    db.execute("DROP POLICY own_rows ON acme_schema.claims");
    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "json"]).status(1);
    let findings = out.json()["findings"].as_array().cloned().unwrap_or_default();
    let named: Vec<String> = findings
        .iter()
        .map(|f| ["scope", "kind", "object"].map(|k| f[k].as_str().unwrap_or("").to_owned()).join(" "))
        .collect();
    assert_eq!(named, ["acme policy acme_schema.claims.own_rows"], "{}", out.stdout);
}

#[test]
fn the_sample_has_no_fixed_password_and_a_rerun_adds_nothing() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    // The sample encrypts under provision.sample_key, which `provision seed` sets per run (design13.md); a
    // database default stands in for it where the runner does not set one yet, and a set_config overrides it.
    db.execute(&format!(
        "ALTER DATABASE {} SET provision.sample_key = 'sample-test-key-0123456789abcdef0123'",
        db.name
    ));
    db.provision().in_workspace(&ws).args(["seed", "--tenant", "acme"]).success();
    let counts = |db: &TestDb| db.strings(&sample_counts_sql());
    let first = counts(&db);
    for row in &first {
        assert!(!row.ends_with(" 0"), "every table gets sample rows: {first:?}");
    }
    db.provision().in_workspace(&ws).args(["seed", "--tenant", "acme"]).success();
    assert_eq!(counts(&db), first, "a rerun adds nothing");
    // The four sample users can log in (the administrator has no usable password off the sandbox), each with a
    // bcrypt hash; none with the seed's password.
    let logins = db.strings("SELECT email FROM acme_schema.users WHERE password_hash <> '!' ORDER BY 1");
    assert_eq!(
        logins,
        ["admin0@acme.example", "claimant0@acme.example", "claimant1@acme.example", "reviewer0@acme.example"]
    );
    let demo = db.scalar(
        "SELECT count(*)::text FROM acme_schema.users \
         WHERE password_hash <> '!' AND public.crypt('Demo123!', password_hash) = password_hash",
    );
    assert_eq!(demo, "0", "no user has the seed's demo password");
    let anywhere: i64 = db.strings(&contains_anywhere_sql("Demo123!")).iter().map(|n| n.parse::<i64>().unwrap()).sum();
    assert_eq!(anywhere, 0, "no row of any table holds the text Demo123!");
    let plaintext_names =
        db.scalar("SELECT count(*)::text FROM acme_schema.users WHERE first_name::text NOT LIKE 'enc1:%'");
    assert_eq!(plaintext_names, "0");
}

/// `table rows` for every ClaimFlow table of acme.
fn sample_counts_sql() -> String {
    TABLES
        .iter()
        .map(|t| format!("SELECT '{t} ' || count(*) FROM acme_schema.{t}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// One count per table of the database (tenant, shared and provision's own) of rows whose text holds `needle`.
/// Every table's rows holding `needle`, except `shared.template_sources`:
/// it holds the templates' own text, whose `-- seed:` comments name the
/// document's demo password to say it is not used.
fn contains_anywhere_sql(needle: &str) -> String {
    format!(
        "SELECT (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %s t WHERE t::text LIKE %L', \
         c.oid::regclass, '%{needle}%'), false, true, '')))[1]::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
           AND c.oid <> 'shared.template_sources'::regclass"
    )
}

#[test]
fn a_tenant_login_reads_the_shared_codes_and_cannot_change_them() {
    let (db, _ws, login, _acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        let described = c
            .query_one("SELECT description FROM claimflow_codes.icd10cm_codes WHERE code = 'I10'", &[])
            .await
            .expect("the codes are readable without any setting");
        assert_eq!(described.get::<_, String>(0), "Essential (primary) hypertension");
        for sql in [
            "INSERT INTO claimflow_codes.icd10cm_codes (code, description, release) VALUES ('Z99.9', 'x', 'x')",
            "UPDATE claimflow_codes.cpt_codes SET description = 'x'",
            "DELETE FROM claimflow_codes.icd10cm_codes",
        ] {
            let err = c.batch_execute(sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {err:?}");
        }
    });
}
