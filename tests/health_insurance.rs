//! The health_insurance pack (seed 002), proved on real PostgreSQL: every
//! table, column, enum type and index the document lists exists in a tenant
//! schema; PHI columns refuse plaintext; a login of one health plan sees
//! nothing of another, nor anything without its setting; the application's
//! audit trail is append-only; verify is clean and names drift; the sample
//! leaves only ciphertext under the sample key in PHI columns.
//!
//! The document's lists live in tests/fixtures/health_insurance/, extracted
//! from seed 002, so the assertions name what the document has, not what the
//! templates happen to create.

mod support;

use support::access::{app_login, assert_isolated, code_of, set_tenant, tenant_id, PASSWORD};
use support::{repo, TestDb, Workspace};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

const TWO_PLANS: &str = "[defaults]\nblueprint = \"health_insurance\"\n\
                         [tenants.acme]\nname = \"Acme Health Plan\"\n\
                         [tenants.beta]\nname = \"Beta Health Plan\"\n";
/// A key as `provision seed` makes one: long, random, never in SQL text.
const SAMPLE_KEY: &str = "test-sample-key-7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e";

const COLUMNS: &str = include_str!("fixtures/health_insurance/columns.txt");
const ENUMS: &str = include_str!("fixtures/health_insurance/enums.txt");
const INDEXES: &str = include_str!("fixtures/health_insurance/indexes.txt");
const ENCRYPTED: &str = include_str!("fixtures/health_insurance/encrypted.txt");
const INDEX_SQL: &str = include_str!("sql/health_insurance_index.sql");

/// The document's indexes that duplicated a UNIQUE constraint's own index,
/// left out by the pack (each is the constraint's index instead).
const DUPLICATES_OF_UNIQUE: [&str; 7] = [
    "idx_users_email",
    "idx_members_member_number",
    "idx_policies_policy_number",
    "idx_claims_claim_number",
    "idx_providers_npi",
    "idx_employers_group_number",
    "idx_sessions_token",
];

/// Lines of a fixture, comments skipped.
fn fixture(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

/// The document's tables, in its order.
fn tables() -> Vec<&'static str> {
    fixture(COLUMNS).map(|l| l.split_once(':').unwrap().0).collect()
}

fn provisioned() -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_PLANS);
    db.provision().in_workspace(&ws).arg("up").success();
    (db, ws)
}

async fn text(c: &Client, sql: &str) -> String {
    let row = c.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    row.get::<_, Option<String>>(0).unwrap_or_default()
}

/// Renders the pack's sample/*.sql.tera for tenant `code` (the variables
/// `provision seed` gives them) and runs them in one transaction with the
/// sample key set as `provision seed` sets it: `set_config` with a bind
/// parameter. Until `provision seed` makes the key itself, this is the way
/// to load the sample; the templates are the same.
fn load_sample(db: &TestDb, code: &str, size: u64, key: Option<&str>) -> Result<(), tokio_postgres::Error> {
    let dir = repo().join("templates/health_insurance/sample");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut context = tera::Context::new();
    context.insert("code", code);
    context.insert("tenant_id", &tenant_id(db, code));
    context.insert("size", &size);
    context.insert("seed", &7u64);
    context.insert("schema_name", &format!("{code}_schema"));
    context.insert("tables", &tables());
    let scripts: Vec<String> = files
        .iter()
        .map(|f| tera::Tera::one_off(&std::fs::read_to_string(f).unwrap(), &context, false).unwrap())
        .collect();
    let id = tenant_id(db, code);
    db.with(async |c| {
        c.batch_execute(&format!("BEGIN; SET LOCAL search_path = {code}_schema")).await?;
        c.query_one("SELECT set_config('app.tenant_id', $1, true)", &[&id]).await?;
        if let Some(key) = key {
            c.query_one("SELECT set_config('provision.sample_key', $1, true)", &[&key]).await?;
        }
        for sql in &scripts {
            c.batch_execute(sql).await?;
        }
        c.batch_execute("COMMIT").await
    })
}

#[test]
fn every_table_column_enum_type_and_index_of_the_document_exists() {
    let (db, _ws) = provisioned();
    db.with(async |c| {
        let found = text(
            c,
            "SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class \
                             WHERE relnamespace = 'acme_schema'::regnamespace AND relkind IN ('r', 'p') \
                               AND NOT relispartition AND relname <> 'refinery_schema_history'",
        )
        .await;
        let mut expected = tables();
        expected.sort();
        assert_eq!(found, expected.join(" "), "the schema's tables are the document's fifteen");
        for line in fixture(COLUMNS) {
            let (table, columns) = line.split_once(": ").unwrap();
            let found = text(
                c,
                &format!(
                    "SELECT string_agg(attname, ' ' ORDER BY attnum) FROM pg_attribute \
                                          WHERE attrelid = 'acme_schema.{table}'::regclass AND attnum > 0 \
                                            AND NOT attisdropped"
                ),
            )
            .await;
            assert_eq!(found, columns, "columns of {table}, in the document's order");
        }
        for line in fixture(ENUMS) {
            let (column, labels) = line.split_once(": ").unwrap();
            let (table, column) = column.split_once(' ').unwrap();
            let found = text(
                c,
                &format!(
                    "SELECT string_agg(enumlabel, ' ' ORDER BY enumsortorder) FROM pg_enum \
                                          WHERE enumtypid = 'acme_schema.{table}_{column}'::regtype"
                ),
            )
            .await;
            assert_eq!(found, labels, "labels of acme_schema.{table}_{column}, in order");
            let typ = text(
                c,
                &format!(
                    "SELECT atttypid::regtype::text FROM pg_attribute \
                                        WHERE attrelid = 'acme_schema.{table}'::regclass AND attname = '{column}'"
                ),
            )
            .await;
            assert_eq!(typ, format!("acme_schema.{table}_{column}"), "{table}.{column} uses its enum type");
        }
        for line in fixture(INDEXES) {
            let parts: Vec<&str> = line.split(' ').collect();
            let (name, table, columns) = (parts[0], parts[1], parts[2]);
            let row = c.query_one(INDEX_SQL, &[&table, &columns]).await.unwrap();
            let indexes: String = row.get(0);
            if DUPLICATES_OF_UNIQUE.contains(&name) {
                // Only the constraint's own index: the duplicate is gone.
                assert_eq!(indexes, format!("{table}_{columns}_key:unique"), "{name} duplicated the UNIQUE constraint");
            } else {
                assert_eq!(indexes, format!("{name}:plain"), "{name} on {table}({columns})");
            }
        }
        for line in fixture(ENCRYPTED) {
            let (table, column) = line.split_once(' ').unwrap();
            let typ = text(
                c,
                &format!(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
                                        WHERE attrelid = 'acme_schema.{table}'::regclass AND attname = '{column}'"
                ),
            )
            .await;
            assert_eq!(typ, "shared.ciphertext", "{table}.{column} is PHI");
        }
    });
}

#[test]
fn blueprint_encrypted_names_every_locked_column_of_the_document() {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo().join("templates/health_insurance/blueprint.toml")).unwrap())
            .unwrap();
    let mut declared: Vec<String> = manifest["encrypted"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            let table = e["table"].as_str().unwrap().to_owned();
            e["columns"].as_array().unwrap().iter().map(move |c| format!("{table} {}", c.as_str().unwrap()))
        })
        .collect();
    let mut document: Vec<String> = fixture(ENCRYPTED).map(str::to_owned).collect();
    declared.sort();
    document.sort();
    assert_eq!(declared, document);
}

#[test]
fn plaintext_in_a_phi_column_is_refused() {
    let (db, ws) = provisioned();
    let login = app_login(&db, &ws, "acme");
    let acme = tenant_id(&db, "acme");
    db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &acme).await;
        let plain = "INSERT INTO acme_schema.members (member_number, first_name, last_name, date_of_birth, enrollment_date) \
                     VALUES ('M-1', 'Jane', 'Doe', '1980-02-01', current_date)";
        let err = c.batch_execute(plain).await.expect_err("plaintext PHI");
        assert_eq!(code_of(&err), SqlState::CHECK_VIOLATION, "{err:?}");
        c.execute(
            "INSERT INTO acme_schema.members (member_number, first_name, last_name, date_of_birth, enrollment_date) \
             VALUES ('M-1', shared.encrypt('Jane', $1), shared.encrypt('Doe', $1), shared.encrypt('1980-02-01', $1), current_date)",
            &[&SAMPLE_KEY],
        )
        .await
        .expect("ciphertext made with the caller's key is accepted");
        let err = c.batch_execute("UPDATE acme_schema.members SET ssn = '123-45-6789'").await.expect_err("plaintext");
        assert_eq!(code_of(&err), SqlState::CHECK_VIOLATION, "{err:?}");
        let err = c
            .batch_execute("INSERT INTO acme_schema.employers (company_name, tax_id) VALUES ('Initech', '12-3456789')")
            .await
            .expect_err("plaintext tax id");
        assert_eq!(code_of(&err), SqlState::CHECK_VIOLATION, "{err:?}");
        let name: String = c
            .query_one("SELECT shared.decrypt(first_name, $1) FROM acme_schema.members", &[&SAMPLE_KEY])
            .await
            .unwrap()
            .get(0);
        assert_eq!(name, "Jane");
    });
    assert_eq!(db.scalar("SELECT count(*)::text FROM acme_schema.members WHERE first_name LIKE 'enc1:%'"), "1");
}

#[test]
fn a_login_of_one_plan_sees_nothing_of_another_nor_without_its_setting() {
    let (db, ws) = provisioned();
    load_sample(&db, "acme", 40, Some(SAMPLE_KEY)).unwrap();
    load_sample(&db, "beta", 40, Some(SAMPLE_KEY)).unwrap();
    let login = app_login(&db, &ws, "acme");
    let (acme, beta) = (tenant_id(&db, "acme"), tenant_id(&db, "beta"));
    db.as_login(&login, PASSWORD, async |c| {
        let tables: Vec<&str> = tables().into_iter().chain(["audit_logs_default", "notifications_default"]).collect();
        assert_isolated(c, &tables, ("acme", &acme), ("beta", &beta)).await;
        set_tenant(c, &beta).await;
        let forged =
            c.batch_execute("INSERT INTO acme_schema.sessions (session_token, expires_at) VALUES ('t', now())").await;
        assert_eq!(code_of(&forged.unwrap_err()), SqlState::INSUFFICIENT_PRIVILEGE, "WITH CHECK refuses another id");
    });
}

#[test]
fn the_audit_trail_is_append_only_and_writes_are_audited() {
    let (db, ws) = provisioned();
    let login = app_login(&db, &ws, "acme");
    let acme = tenant_id(&db, "acme");
    // A partition holding the row: the app has its parent's default privileges there, so only the guard refuses.
    let partition = db.scalar("SELECT 'acme_schema.audit_logs_p' || to_char(localtimestamp, 'YYYY_MM')");
    db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &acme).await;
        c.batch_execute("INSERT INTO acme_schema.audit_logs (action, resource_type) VALUES ('READ', 'members')")
            .await
            .expect("the application appends");
        c.batch_execute(
            "INSERT INTO acme_schema.users (email, password_hash, role) VALUES ('a@acme.example', '!', 'admin')",
        )
        .await
        .unwrap();
        for attempt in [
            "UPDATE acme_schema.audit_logs SET action = 'X'".to_owned(),
            "DELETE FROM acme_schema.audit_logs".to_owned(),
            "TRUNCATE acme_schema.audit_logs".to_owned(),
            format!("UPDATE {partition} SET action = 'X'"),
            format!("DELETE FROM {partition}"),
        ] {
            let err = c.batch_execute(&attempt).await.expect_err(&attempt);
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{attempt}: {err:?}");
        }
    });
    // Not even the superuser or the tenant's owner: the guards raise.
    for attempt in [
        "UPDATE acme_schema.audit_logs SET action = 'X'".to_owned(),
        "DELETE FROM acme_schema.audit_logs".to_owned(),
        "TRUNCATE acme_schema.audit_logs".to_owned(),
        format!("DELETE FROM {partition}"),
        format!("SET ROLE acme_owner; SET app.tenant_id = '{acme}'; DELETE FROM acme_schema.audit_logs"),
    ] {
        let refused = db.with(async |c| c.batch_execute(&attempt).await);
        let err = refused.expect_err(&attempt);
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{attempt}: {err:?}");
        assert!(format!("{err:?}").contains("append-only"), "{attempt}: refused by the guard: {err:?}");
    }
    assert_eq!(db.scalar("SELECT count(*)::text FROM acme_schema.audit_logs WHERE action = 'READ'"), "1");
    // provision's own trail: the users insert, and nothing for audit_logs ([audit] exclude).
    let trail = db.strings("SELECT table_name || ' ' || operation FROM audit.acme_audit_log ORDER BY \"timestamp\"");
    assert_eq!(trail, ["users INSERT"]);
}

/// PostgreSQL clones row triggers onto partitions but not statement-level
/// ones: provision copies the pack's TRUNCATE guard onto every partition it
/// makes (up, rollover), so no partition can be truncated by name, and `up`
/// puts back a copy that was lost.
#[test]
fn every_partition_of_the_audit_trail_carries_the_truncate_guard() {
    let (db, ws) = provisioned();
    let unguarded = "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                     WHERE i.inhparent = 'acme_schema.audit_logs'::regclass AND NOT EXISTS \
                     (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'audit_logs_no_truncate') ORDER BY 1";
    let partitions = "SELECT count(*)::text FROM pg_inherits WHERE inhparent = 'acme_schema.audit_logs'::regclass";
    let none: Vec<String> = Vec::new();
    assert_eq!(db.strings(unguarded), none);
    let before: i32 = db.scalar(partitions).parse().unwrap();
    let ahead = db.scalar("SELECT to_char(localtimestamp + interval '2 months', 'YYYY-MM-15')");
    db.provision().in_workspace(&ws).args(["partitions", "rollover", "--now", &ahead]).success();
    assert!(db.scalar(partitions).parse::<i32>().unwrap() > before, "rollover made no partition");
    assert_eq!(db.strings(unguarded), none);

    let partition = db.scalar("SELECT 'acme_schema.audit_logs_p' || to_char(localtimestamp, 'YYYY_MM')");
    for attempt in
        [format!("TRUNCATE {partition}"), "SET ROLE acme_owner; TRUNCATE acme_schema.audit_logs_default".to_owned()]
    {
        let refused = db.with(async |c| c.batch_execute(&attempt).await);
        let err = refused.expect_err(&attempt);
        assert!(format!("{err:?}").contains("append-only"), "{attempt}: refused by the guard: {err:?}");
    }

    db.execute(&format!("DROP TRIGGER audit_logs_no_truncate ON {partition}"));
    db.provision()
        .in_workspace(&ws)
        .args(["verify", "--tenant", "acme"])
        .status(1)
        .stdout_has(&partition)
        .stdout_has("the statement-level trigger audit_logs_no_truncate of its parent is missing");
    db.provision()
        .in_workspace(&ws)
        .args(["up", "--no-verify"])
        .success()
        .stdout_has(&format!("TRUNCATE guard on {partition}"));
    assert_eq!(db.strings(unguarded), none);
}

#[test]
fn verify_is_clean_after_up_and_names_a_planted_drift() {
    let (db, ws) = provisioned();
    let clean = db.provision().in_workspace(&ws).arg("verify").success();
    assert!(clean.stdout.contains("clean"), "{}", clean.stdout);
    db.execute(
        "ALTER TABLE acme_schema.members ALTER COLUMN ssn TYPE text; DROP INDEX acme_schema.idx_claims_processing",
    );
    let drift = db.provision().in_workspace(&ws).arg("verify").status(1);
    assert!(drift.stdout.contains("acme: structure changed column acme_schema.members.ssn"), "{}", drift.stdout);
    assert!(
        drift.stdout.contains("acme: structure missing index acme_schema.idx_claims_processing"),
        "{}",
        drift.stdout
    );
    assert!(!drift.stdout.contains("beta:"), "beta was not touched:\n{}", drift.stdout);
}

#[test]
fn the_sample_leaves_only_envelopes_of_the_sample_key_in_phi_columns() {
    let (db, _ws) = provisioned();
    let refused = load_sample(&db, "acme", 5, None).expect_err("no sample key");
    assert!(format!("{refused:?}").contains("no sample key"), "{refused:?}");
    load_sample(&db, "acme", 40, Some(SAMPLE_KEY)).unwrap();
    let counts = |db: &TestDb| -> Vec<String> {
        tables().iter().map(|t| db.scalar(&format!("SELECT count(*)::text FROM acme_schema.{t}"))).collect()
    };
    let loaded = counts(&db);
    assert!(loaded.iter().all(|n| n != "0"), "every table has sample rows: {loaded:?}");
    db.with(async |c| {
        let key_id = text(c, &format!("SELECT shared.key_id('{SAMPLE_KEY}')")).await;
        for line in fixture(ENCRYPTED) {
            let (table, column) = line.split_once(' ').unwrap();
            let sql = format!(
                "SELECT count({column})::text || ' ' || count(*) FILTER (WHERE shared.envelope_key_id({column}) IS DISTINCT FROM '{key_id}' \
                   AND {column} IS NOT NULL)::text FROM acme_schema.{table}"
            );
            let found = text(c, &sql).await;
            let (filled, other) = found.split_once(' ').unwrap();
            assert_ne!(filled, "0", "{table}.{column}: the sample fills every PHI column");
            assert_eq!(other, "0", "{table}.{column}: every value is an envelope of the sample key");
        }
        let dob = c
            .query_one("SELECT shared.decrypt(date_of_birth, $1)::date::text FROM acme_schema.members LIMIT 1", &[&SAMPLE_KEY])
            .await
            .unwrap();
        assert!(!dob.get::<_, String>(0).is_empty());
    });
    load_sample(&db, "acme", 40, Some(SAMPLE_KEY)).unwrap();
    assert_eq!(counts(&db), loaded, "a rerun with the same seed adds nothing");
}

#[test]
fn provision_seed_encrypts_phi_under_a_fresh_key_it_records_and_does_not_show_off_the_sandbox() {
    let (db, ws) = provisioned();
    let run = db.provision().in_workspace(&ws).args(["seed", "--tenant", "acme", "--sample", "30"]).success();
    let current = db.strings("SELECT key_id FROM shared.tenant_keys WHERE tenant_code = 'acme' AND retired_at IS NULL");
    assert_eq!(current.len(), 1, "one current key recorded: {current:?}");
    let key_id = &current[0];
    for line in fixture(ENCRYPTED) {
        let (table, column) = line.split_once(' ').unwrap();
        let found = db.scalar(&format!(
            "SELECT count({column})::text || ' ' || count(*) FILTER (WHERE {column} IS NOT NULL \
               AND shared.envelope_key_id({column}) IS DISTINCT FROM '{key_id}')::text FROM acme_schema.{table}"
        ));
        let (filled, other) = found.split_once(' ').unwrap();
        assert_ne!(filled, "0", "{table}.{column}: the sample fills every PHI column");
        assert_eq!(other, "0", "{table}.{column}: every value is an envelope of the recorded key");
    }
    // Not the sandbox: the key is not shown (no 64-hex-digit run anywhere).
    let shown = run.stdout + &run.stderr;
    let hex_run = shown.as_bytes().windows(32).any(|w| w.iter().all(u8::is_ascii_hexdigit));
    assert!(!hex_run, "a key-like secret was printed: {shown}");
}
