//! The ClaimFlow pack (templates/claimflow, seed 004) against real PostgreSQL:
//! its tables, types and indexes in the catalog, the shared CPT/ICD codes,
//! tenant isolation and per-user row-level security for real LOGIN roles
//! granted with `tenant grant`, ciphertext-only personal columns, the
//! append-only activity log, verify, and a sample without fixed passwords.

mod support;

use support::{TestDb, Workspace};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

const TWO_TENANTS: &str = "[defaults]\nblueprint = \"claimflow\"\n\
                           [tenants.acme]\nname = \"Acme Claims\"\n[tenants.beta]\nname = \"Beta Claims\"\n";
const PASSWORD: &str = "login-pw";
const FIXTURE: &str = include_str!("sql/claimflow_fixture.sql");
const USER_1: &str = "00000000-0000-4000-8000-000000000001";
const USER_2: &str = "00000000-0000-4000-8000-000000000002";
const REVIEWER: &str = "00000000-0000-4000-8000-000000000003";
const LOCKED_REVIEWER: &str = "00000000-0000-4000-8000-000000000004";
const ADMIN: &str = "00000000-0000-4000-8000-000000000005";

const TABLES: &[&str] = &[
    "appeals",
    "audit_logs",
    "claim_timeline",
    "claims",
    "documents",
    "insurance_profiles",
    "notifications",
    "sessions",
    "system_config",
    "users",
];

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

/// A database with acme and beta (both claimflow), the fixture in both, and
/// a login granted acme_app.
fn setup() -> (TestDb, Workspace, String, String) {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    db.execute(&FIXTURE.replace("S.", "acme_schema."));
    db.execute(&FIXTURE.replace("S.", "beta_schema."));
    let login = format!("cf_login_{}", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    db.provision().in_workspace(&ws).args(["tenant", "grant", "acme", &login]).success();
    let acme_id = tenant_id(&db, "acme");
    (db, ws, login, acme_id)
}

fn tenant_id(db: &TestDb, code: &str) -> String {
    db.scalar(&format!("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = '{code}'"))
}

async fn count(c: &Client, sql: &str) -> i64 {
    c.query_one(&format!("SELECT count(*) FROM ({sql}) q"), &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")).get(0)
}

async fn act_as(c: &Client, tenant: &str, user: &str) {
    c.query_one(
        "SELECT set_config('app.tenant_id', $1, false), set_config('app.user_id', $2, false)",
        &[&tenant, &user],
    )
    .await
    .unwrap();
}

fn code_of(e: &tokio_postgres::Error) -> SqlState {
    e.code().cloned().unwrap_or_else(|| panic!("not a database error: {e:?}"))
}

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
fn a_claimant_is_denied_another_claimants_rows_while_staff_see_both() {
    let (db, _ws, login, acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        act_as(c, &acme_id, USER_1).await;
        let claims: Vec<String> = c
            .query("SELECT claim_number FROM acme_schema.claims", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(claims, ["T-1"]);
        for table in
            ["users", "insurance_profiles", "notifications", "sessions", "claim_timeline", "appeals", "audit_logs"]
        {
            assert_eq!(count(c, &format!("SELECT 1 FROM acme_schema.{table}")).await, 1, "user 1's own {table}");
        }
        // The staff_only document of user 1's own claim stays hidden.
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.documents").await, 1);
        let updated =
            c.execute("UPDATE acme_schema.claims SET billed_amount = 0 WHERE claim_number = 'T-2'", &[]).await;
        assert_eq!(updated.unwrap(), 0, "user 2's claim is invisible to user 1's UPDATE");
        let err = c
            .batch_execute(&format!(
                "INSERT INTO acme_schema.claims (claim_number, user_id, service_date, billed_amount) \
                 VALUES ('T-3', '{USER_2}', '2026-02-01', 1)"
            ))
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "a claim in user 2's name: {err:?}");
        act_as(c, &acme_id, USER_2).await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims WHERE claim_number = 'T-1'").await, 0);
        act_as(c, &acme_id, REVIEWER).await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims").await, 2, "a reviewer sees both claims");
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.documents").await, 3, "and every document");
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.users").await, 6, "the fixture's five and admin@acme.example");
        act_as(c, &acme_id, LOCKED_REVIEWER).await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims").await, 0, "a locked reviewer is no staff");
    });
    let untouched = db.scalar("SELECT billed_amount::text FROM acme_schema.claims WHERE claim_number = 'T-2'");
    assert_eq!(untouched, "80.00");
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
fn contains_anywhere_sql(needle: &str) -> String {
    format!(
        "SELECT (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %s t WHERE t::text LIKE %L', \
         c.oid::regclass, '%{needle}%'), false, true, '')))[1]::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
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

#[test]
fn nobody_gives_themselves_a_role_and_only_an_admin_changes_one() {
    let (db, _ws, login, acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        for (who, me) in [("a claimant", USER_1), ("a reviewer", REVIEWER)] {
            act_as(c, &acme_id, me).await;
            let sql = format!("UPDATE acme_schema.users SET role = 'admin' WHERE id = '{me}'");
            let err = c.batch_execute(&sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{who} made themselves admin: {err:?}");
            let others =
                c.execute(&format!("UPDATE acme_schema.users SET email = email WHERE id <> '{me}'"), &[]).await;
            assert_eq!(others.unwrap(), 0, "{who} wrote another user's row");
        }
        act_as(c, &acme_id, ADMIN).await;
        let promote = format!("UPDATE acme_schema.users SET role = 'reviewer' WHERE id = '{USER_2}'");
        assert_eq!(c.execute(&promote, &[]).await.unwrap(), 1, "an admin changes another user's role");
        act_as(c, &acme_id, "").await;
        c.batch_execute("INSERT INTO acme_schema.users (email, password_hash) VALUES ('new@test.example', '!')")
            .await
            .expect("sign-up creates a claimant");
        let err = c
            .batch_execute(
                "INSERT INTO acme_schema.users (email, password_hash, role) VALUES ('x@test.example', '!', 'admin')",
            )
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "sign-up made an admin: {err:?}");
    });
    let roles =
        db.strings("SELECT email || ' ' || role FROM acme_schema.users WHERE email LIKE '%@test.example' ORDER BY 1");
    assert_eq!(
        roles,
        [
            "boss@test.example admin",
            "locked@test.example reviewer",
            "new@test.example claimant",
            "rev@test.example reviewer",
            "u1@test.example claimant",
            "u2@test.example reviewer",
        ]
    );
}

#[test]
fn a_claimant_submits_their_draft_but_never_decides_it() {
    let (db, _ws, login, acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        act_as(c, &acme_id, USER_1).await;
        for sql in [
            "UPDATE acme_schema.claims SET status = 'approved', submitted_at = now(), decided_at = now() WHERE claim_number = 'T-1'",
            "UPDATE acme_schema.claims SET paid_amount = 120 WHERE claim_number = 'T-1'",
            "UPDATE acme_schema.insurance_profiles SET verification_status = 'verified' WHERE is_primary",
            "UPDATE acme_schema.appeals SET status = 'overturned' WHERE appeal_number = 'A-1'",
        ] {
            let err = c.batch_execute(sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {err:?}");
        }
        let submit = "UPDATE acme_schema.claims SET status = 'submitted', submitted_at = now() WHERE claim_number = 'T-1'";
        assert_eq!(c.execute(submit, &[]).await.unwrap(), 1, "a claimant submits their draft");
        let edit = "UPDATE acme_schema.claims SET billed_amount = 1 WHERE claim_number = 'T-1'";
        assert_eq!(c.execute(edit, &[]).await.unwrap(), 0, "a submitted claim is no longer the claimant's to edit");
        act_as(c, &acme_id, REVIEWER).await;
        let decide = "UPDATE acme_schema.claims SET status = 'approved', decided_at = now(), allowed_amount = 100 \
                      WHERE claim_number = 'T-1'";
        assert_eq!(c.execute(decide, &[]).await.unwrap(), 1, "a reviewer decides it");
    });
    let decided = db.scalar("SELECT status || ' ' || billed_amount FROM acme_schema.claims WHERE claim_number = 'T-1'");
    assert_eq!(decided, "approved 120.00");
}

#[test]
fn login_finds_the_account_and_five_failures_lock_it() {
    let (db, _ws, login, acme_id) = setup();
    let beta_id = tenant_id(&db, "beta");
    db.as_login(&login, PASSWORD, async |c| {
        let lookup = "SELECT id::text FROM acme_schema.login_lookup('u1@test.example')";
        act_as(c, &beta_id, "").await;
        assert!(c.query(lookup, &[]).await.unwrap().is_empty(), "another tenant's id finds no account");
        act_as(c, &acme_id, "").await;
        let found: Vec<String> = c.query(lookup, &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(found, [USER_1], "the login flow finds the account before anyone is acting");
        let record = "SELECT acme_schema.record_login($1::text::uuid, $2)";
        for attempt in 1..=5 {
            let ok: bool = c.query_one(record, &[&USER_1, &false]).await.unwrap().get(0);
            assert!(!ok, "failed attempt {attempt}");
        }
        let ok: bool = c.query_one(record, &[&USER_1, &true]).await.unwrap().get(0);
        assert!(!ok, "the right password does not open a locked account");
        let ok: bool = c.query_one(record, &[&USER_2, &true]).await.unwrap().get(0);
        assert!(ok, "user 2 logs in");
    });
    let state = db.strings(
        "SELECT email || ' ' || failed_login_attempts || ' ' || coalesce((locked_until > now())::text, 'unlocked') || ' ' || (last_login_at IS NOT NULL) \
         FROM acme_schema.users WHERE id IN ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002') \
         ORDER BY email",
    );
    assert_eq!(state, ["u1@test.example 5 true false", "u2@test.example 0 unlocked true"]);
}
