//! The intelipro_renewal pack (seed 000, an insurer's policy-renewal system),
//! proved on real PostgreSQL: the document's 35 tables exist in a tenant
//! schema with 50+ indexes (partial ones among them); the message,
//! delivery-status and audit tables are partitioned by month with a DEFAULT;
//! every table is under forced row-level security; verify is clean and names
//! drift; a login of one insurer sees nothing of another, nor anything
//! without its setting; credential columns refuse plaintext; the
//! organisation tree refuses a cycle; no account has a known password;
//! writes are audited and the application's trail is append-only; the
//! sample loads through `provision seed` and `db create --sample`; rollover
//! extends the window with isolated partitions.

mod support;

use support::access::{app_login, assert_isolated, code_of, set_tenant, tenant_id, PASSWORD};
use support::{TestDb, Workspace};
use tokio_postgres::error::SqlState;

const TWO_INSURERS: &str = "[defaults]\nblueprint = \"intelipro_renewal\"\n\
                            [tenants.acme]\nname = \"Acme Insurance\"\n\
                            [tenants.beta]\nname = \"Beta Assurance\"\n";
const KEY: &str = "test-key-0b7d2e94c1a35f6e8d0c2b4a6f8e1d3c5b7a9f0e";

/// Seed 000's tables, group by group, in its order.
const TABLES: [&str; 35] = [
    "users",
    "roles",
    "user_sessions",
    "customers",
    "policies",
    "policy_types",
    "campaigns",
    "templates",
    "campaign_recipients",
    "file_uploads",
    "upload_batches",
    "files",
    "renewal_cases",
    "case_history",
    "emails",
    "email_accounts",
    "email_threads",
    "surveys",
    "survey_responses",
    "claims",
    "claim_history",
    "whatsapp_templates",
    "whatsapp_messages",
    "notifications",
    "system_alerts",
    "audit_logs",
    "data_retention_policies",
    "outstanding_amounts",
    "customer_profiles",
    "social_media_integrations",
    "platform_verifications",
    "channels",
    "organizational_hierarchy",
    "vendor_communications",
    "communication_delivery_status",
];

/// Monthly-partitioned tables, as blueprint.toml declares them.
const PARTITIONED: [&str; 4] = ["emails", "whatsapp_messages", "communication_delivery_status", "audit_logs"];

/// Partial indexes the pack promises ("Partial indexes for active records"), by name.
const PARTIAL: [&str; 8] = [
    "idx_policies_expiring",
    "idx_renewal_cases_agent_open",
    "idx_renewal_cases_one_open",
    "idx_outstanding_unpaid_due",
    "idx_customers_email",
    "idx_notifications_unread",
    "idx_campaigns_due",
    "idx_delivery_status_failures",
];

/// The credential columns that hold only ciphertext.
const ENCRYPTED: [&str; 7] = [
    "email_accounts.imap_password",
    "email_accounts.oauth_refresh_token",
    "email_accounts.smtp_password",
    "social_media_integrations.access_token",
    "social_media_integrations.app_secret",
    "social_media_integrations.refresh_token",
    "users.mfa_secret",
];

fn provisioned() -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_INSURERS);
    db.provision().in_workspace(&ws).arg("up").success();
    (db, ws)
}

/// One row in every table of tenant `code`, written through the app role's
/// rules (the superuser connection sets the tenant and writes as the owner).
fn one_row_everywhere(db: &TestDb, code: &str) {
    let id = tenant_id(db, code);
    let s = format!("{code}_schema");
    db.with(async |c| {
        c.batch_execute(&format!("SET ROLE {code}_owner; SET search_path = {s}")).await.unwrap();
        set_tenant(c, &id).await;
        c.query_one("SELECT set_config('test.key', $1, false)", &[&KEY]).await.unwrap();
        c.batch_execute(include_str!("sql/intelipro_renewal_rows.sql"))
            .await
            .unwrap_or_else(|e| panic!("{code}: {e:?}"));
    });
}

#[test]
fn every_table_index_partition_and_policy_of_the_pack_exists() {
    let (db, _ws) = provisioned();
    let found = db.strings(
        "SELECT relname::text FROM pg_class WHERE relnamespace = 'acme_schema'::regnamespace \
         AND relkind IN ('r', 'p') AND NOT relispartition AND relname <> 'refinery_schema_history' ORDER BY 1",
    );
    let mut expected: Vec<&str> = TABLES.to_vec();
    expected.sort();
    assert_eq!(found, expected, "the schema's tables are the document's 35");

    // Indexes of the tables themselves (not of partitions, which copy them).
    let indexes: usize = db
        .scalar(
            "SELECT count(*)::text FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
             WHERE t.relnamespace = 'acme_schema'::regnamespace AND NOT t.relispartition \
             AND t.relname <> 'refinery_schema_history'",
        )
        .parse()
        .unwrap();
    assert!(indexes >= 50, "the document promises 50+ indexes: {indexes}");
    let plain: usize = db
        .scalar(
            "SELECT count(*)::text FROM pg_class c WHERE c.relnamespace = 'acme_schema'::regnamespace \
             AND c.relkind IN ('i', 'I') AND c.relname LIKE 'idx\\_%' AND NOT EXISTS \
             (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid)",
        )
        .parse()
        .unwrap();
    assert!(plain >= 50, "50+ of them are the pack's own (not primary keys or UNIQUE): {plain}");
    for name in PARTIAL {
        let predicate = db.scalar(&format!(
            "SELECT coalesce(pg_get_expr(indpred, indrelid), '') FROM pg_index \
             WHERE indexrelid = 'acme_schema.{name}'::regclass"
        ));
        assert!(!predicate.is_empty(), "{name} is a partial index");
    }
    let composite: usize = db
        .scalar(
            "SELECT count(*)::text FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
             WHERE t.relnamespace = 'acme_schema'::regnamespace AND NOT t.relispartition AND i.indnatts > 1",
        )
        .parse()
        .unwrap();
    assert!(composite >= 25, "composite indexes for the document's queries: {composite}");

    // Partitioned by month on created_at, with a DEFAULT and the current month through three ahead.
    let months = db.strings(
        "SELECT to_char(date_trunc('month', localtimestamp) + k * interval '1 month', 'YYYY_MM') \
         FROM generate_series(0, 3) k ORDER BY 1",
    );
    for table in PARTITIONED {
        let key = db.scalar(&format!("SELECT pg_get_partkeydef('acme_schema.{table}'::regclass)"));
        assert_eq!(key, "RANGE (created_at)", "{table} is RANGE-partitioned on created_at");
        let pk = db.scalar(&format!(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'acme_schema.{table}'::regclass \
             AND contype = 'p'"
        ));
        assert_eq!(pk, "PRIMARY KEY (id, created_at)", "{table}: the partition key is in the primary key");
        let parts = db.strings(&format!(
            "SELECT c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i \
             JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'acme_schema.{table}'::regclass ORDER BY 1"
        ));
        assert!(parts.contains(&format!("{table}_default DEFAULT")), "{table}: a DEFAULT partition: {parts:?}");
        for month in &months {
            let from = month.replace('_', "-");
            assert!(
                parts.iter().any(|p| p.starts_with(&format!("{table}_p{month} FOR VALUES FROM ('{from}-01"))),
                "{table}: the partition of {month}: {parts:?}"
            );
        }
        assert_eq!(parts.len(), 5, "{table}: DEFAULT and four months: {parts:?}");
    }

    // Every table and partition: row-level security enabled and forced, with the tenant policy.
    let unforced = db.strings(
        "SELECT relname::text FROM pg_class WHERE relnamespace = 'acme_schema'::regnamespace \
         AND relkind IN ('r', 'p') AND relname <> 'refinery_schema_history' \
         AND NOT (relrowsecurity AND relforcerowsecurity) ORDER BY 1",
    );
    assert!(unforced.is_empty(), "tables without forced RLS: {unforced:?}");
    let unpoliced = db.strings(
        "SELECT relname::text FROM pg_class c WHERE relnamespace = 'acme_schema'::regnamespace \
         AND relkind IN ('r', 'p') AND relname <> 'refinery_schema_history' AND NOT EXISTS \
         (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation' AND NOT p.polpermissive) \
         ORDER BY 1",
    );
    assert!(unpoliced.is_empty(), "tables without the RESTRICTIVE tenant policy: {unpoliced:?}");
    let app_grants = db.scalar(
        "SELECT count(*)::text FROM pg_class WHERE relnamespace = 'acme_schema'::regnamespace \
         AND relkind IN ('r', 'p') AND NOT relispartition AND relname <> 'refinery_schema_history' \
         AND has_table_privilege('acme_app', oid, 'SELECT, INSERT') AND has_table_privilege('acme_ro', oid, 'SELECT') \
         AND NOT has_table_privilege('acme_ro', oid, 'INSERT')",
    );
    assert_eq!(app_grants, "35", "app writes and ro reads every table");

    let encrypted = db.strings(
        "SELECT attrelid::regclass::text || '.' || attname FROM pg_attribute \
         WHERE atttypid = 'shared.ciphertext'::regtype AND attrelid::regclass::text LIKE 'acme_schema.%' ORDER BY 1",
    );
    let expected: Vec<String> = ENCRYPTED.iter().map(|c| format!("acme_schema.{c}")).collect();
    assert_eq!(encrypted, expected);

    // Audited writes: every table with a primary key but the two the manifest excludes.
    let audited = db.strings(
        "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         WHERE c.relnamespace = 'acme_schema'::regnamespace AND NOT c.relispartition \
         AND tgfoid = 'audit.log_row_change'::regproc ORDER BY 1",
    );
    assert_eq!(audited.len(), 33, "audited: {audited:?}");
    assert!(!audited.iter().any(|t| t.ends_with(".audit_logs") || t.ends_with(".user_sessions")));
}

#[test]
fn verify_is_clean_after_up_and_names_a_planted_drift() {
    let (db, ws) = provisioned();
    let clean = db.provision().in_workspace(&ws).arg("verify").success();
    assert!(clean.stdout.contains("clean"), "{}", clean.stdout);
    db.execute(
        "DROP INDEX acme_schema.idx_policies_expiring; \
         DROP POLICY tenant_isolation ON acme_schema.email_accounts",
    );
    let drift = db.provision().in_workspace(&ws).arg("verify").status(1);
    for named in [
        "acme: structure missing index acme_schema.idx_policies_expiring",
        "acme: structure missing policy acme_schema.email_accounts.tenant_isolation",
    ] {
        assert!(drift.stdout.contains(named), "{named}:\n{}", drift.stdout);
    }
    assert!(!drift.stdout.contains("beta:"), "beta was not touched:\n{}", drift.stdout);
}

#[test]
fn a_login_of_one_insurer_sees_nothing_of_another_nor_without_its_setting() {
    let (db, ws) = provisioned();
    one_row_everywhere(&db, "acme");
    one_row_everywhere(&db, "beta");
    let login = app_login(&db, &ws, "acme");
    let (acme, beta) = (tenant_id(&db, "acme"), tenant_id(&db, "beta"));
    db.as_login(&login, PASSWORD, async |c| {
        let tables: Vec<&str> =
            TABLES.iter().copied().chain(["emails_default", "communication_delivery_status_default"]).collect();
        assert_isolated(c, &tables, ("acme", &acme), ("beta", &beta)).await;
        set_tenant(c, &beta).await;
        let forged = c
            .batch_execute("INSERT INTO acme_schema.system_alerts (source, severity, title) VALUES ('x', 'info', 'x')")
            .await;
        assert_eq!(code_of(&forged.unwrap_err()), SqlState::INSUFFICIENT_PRIVILEGE, "WITH CHECK refuses another id");
    });
}

#[test]
fn plaintext_in_a_credential_column_is_refused() {
    let (db, ws) = provisioned();
    let login = app_login(&db, &ws, "acme");
    let acme = tenant_id(&db, "acme");
    db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &acme).await;
        for plain in [
            "INSERT INTO acme_schema.email_accounts (email_address, imap_password) VALUES ('a@acme.example', 'hunter2')",
            "INSERT INTO acme_schema.email_accounts (email_address, smtp_password) VALUES ('b@acme.example', 'hunter2')",
            "INSERT INTO acme_schema.email_accounts (email_address, oauth_refresh_token) VALUES ('c@acme.example', '1//0g')",
            "INSERT INTO acme_schema.social_media_integrations (platform, account_name, access_token) \
             VALUES ('facebook', 'acme', 'EAAB123')",
            "INSERT INTO acme_schema.social_media_integrations (platform, account_name, app_secret) \
             VALUES ('linkedin', 'acme', 's3cret')",
            "INSERT INTO acme_schema.social_media_integrations (platform, account_name, access_token) \
             VALUES ('x', 'acme', 'enc1:forged')",
        ] {
            let err = c.batch_execute(plain).await.expect_err(plain);
            assert_eq!(code_of(&err), SqlState::CHECK_VIOLATION, "{plain}: {err:?}");
        }
        c.execute(
            "INSERT INTO acme_schema.email_accounts (email_address, imap_password, smtp_password) \
             VALUES ('mail@acme.example', shared.encrypt('imap-pw', $1), shared.encrypt('smtp-pw', $1))",
            &[&KEY],
        )
        .await
        .expect("ciphertext made with the caller's key is accepted");
        let err = c.batch_execute("UPDATE acme_schema.email_accounts SET smtp_password = 'plain'").await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::CHECK_VIOLATION, "{err:?}");
        let pw: String = c
            .query_one("SELECT shared.decrypt(imap_password, $1) FROM acme_schema.email_accounts", &[&KEY])
            .await
            .unwrap()
            .get(0);
        assert_eq!(pw, "imap-pw");
    });
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM acme_schema.email_accounts WHERE imap_password LIKE 'enc1:%'"),
        "1"
    );
}

#[test]
fn the_organisation_tree_refuses_a_cycle() {
    let (db, ws) = provisioned();
    let login = app_login(&db, &ws, "acme");
    let acme = tenant_id(&db, "acme");
    db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &acme).await;
        c.batch_execute(
            "INSERT INTO acme_schema.organizational_hierarchy (id, parent_id, code, name, level) VALUES \
             ('00000000-0000-0000-0000-00000000000a', NULL, 'HQ', 'Head office', 'company'), \
             ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-00000000000a', 'N', 'North', 'zone'), \
             ('00000000-0000-0000-0000-00000000000c', '00000000-0000-0000-0000-00000000000b', 'N1', 'North 1', 'region'), \
             ('00000000-0000-0000-0000-00000000000d', '00000000-0000-0000-0000-00000000000a', 'S', 'South', 'zone')",
        )
        .await
        .unwrap();
        for (attempt, code) in [
            (
                "UPDATE acme_schema.organizational_hierarchy SET parent_id = '00000000-0000-0000-0000-00000000000c' \
                 WHERE code = 'HQ'",
                SqlState::INTEGRITY_CONSTRAINT_VIOLATION,
            ),
            (
                "UPDATE acme_schema.organizational_hierarchy SET parent_id = '00000000-0000-0000-0000-00000000000c' \
                 WHERE code = 'N'",
                SqlState::INTEGRITY_CONSTRAINT_VIOLATION,
            ),
            ("UPDATE acme_schema.organizational_hierarchy SET parent_id = id WHERE code = 'S'", SqlState::CHECK_VIOLATION),
            (
                "INSERT INTO acme_schema.organizational_hierarchy (id, parent_id, code, name, level) VALUES \
                 ('00000000-0000-0000-0000-00000000000e', '00000000-0000-0000-0000-00000000000e', 'E', 'E', 'team')",
                SqlState::CHECK_VIOLATION,
            ),
        ] {
            let err = c.batch_execute(attempt).await.expect_err(attempt);
            assert_eq!(code_of(&err), code, "{attempt}: {err:?}");
        }
        // A move that keeps it a tree is accepted.
        c.batch_execute(
            "UPDATE acme_schema.organizational_hierarchy SET parent_id = '00000000-0000-0000-0000-00000000000d' \
             WHERE code = 'N1'",
        )
        .await
        .expect("a move within the tree");
    });
    // As the superuser (RLS does not apply to it).
    let tree = db.strings(
        "SELECT c.code || '<' || coalesce(p.code, '-') \
         FROM acme_schema.organizational_hierarchy c LEFT JOIN acme_schema.organizational_hierarchy p \
         ON p.id = c.parent_id ORDER BY 1",
    );
    assert_eq!(tree, ["HQ<-", "N1<S", "N<HQ", "S<HQ"]);
}

#[test]
fn no_account_has_a_known_or_default_password() {
    let (db, _ws) = provisioned();
    for code in ["acme", "beta"] {
        let users = db.strings(&format!(
            "SELECT email || ' ' || coalesce(password_hash, 'NULL') || ' ' || r.name \
             FROM {code}_schema.users u JOIN {code}_schema.roles r ON r.id = u.role_id ORDER BY 1"
        ));
        assert_eq!(users, [format!("admin@{code}.example NULL admin")], "{code}: one administrator, no password");
        let seeded = db.scalar(&format!(
            "SELECT count(*)::text FROM {code}_schema.users WHERE email ILIKE 'admin@intelipro.com' \
             OR (password_hash IS NOT NULL AND password_hash = public.crypt('Admin123!', password_hash))"
        ));
        assert_eq!(seeded, "0", "{code}: no admin@intelipro.com, no Admin123!");
    }
    // A password is never stored as such: only a bcrypt hash or nothing.
    let err = db
        .with(async |c| {
            c.batch_execute(
                "SELECT set_config('app.tenant_id', tenant_id::text, false) FROM shared.tenants \
                 WHERE tenant_code = 'acme'; SET ROLE acme_owner; UPDATE acme_schema.users SET password_hash = 'Admin123!'",
            )
            .await
        })
        .unwrap_err();
    assert_eq!(code_of(&err), SqlState::CHECK_VIOLATION, "{err:?}");
}

#[test]
fn provision_seed_fills_every_table_with_ciphertext_credentials_and_a_rerun_adds_nothing() {
    let (db, ws) = provisioned();
    let counts = |db: &TestDb| -> Vec<String> {
        TABLES
            .iter()
            .map(|t| format!("{t} {}", db.scalar(&format!("SELECT count(*)::text FROM acme_schema.{t}"))))
            .collect()
    };
    let run = db.provision().in_workspace(&ws).args(["seed", "--tenant", "acme", "--sample", "120"]).success();
    let loaded = counts(&db);
    assert!(loaded.iter().all(|n| !n.ends_with(" 0")), "every table has sample rows: {loaded:?}");
    let current = db.strings("SELECT key_id FROM shared.tenant_keys WHERE tenant_code = 'acme' AND retired_at IS NULL");
    assert_eq!(current.len(), 1, "one current key recorded: {current:?}");
    for column in ENCRYPTED {
        let (table, column) = column.split_once('.').unwrap();
        let found = db.scalar(&format!(
            "SELECT count({column})::text || ' ' || count(*) FILTER (WHERE {column} IS NOT NULL \
               AND shared.envelope_key_id({column}) IS DISTINCT FROM '{}')::text FROM acme_schema.{table}",
            current[0]
        ));
        let (filled, other) = found.split_once(' ').unwrap();
        assert_ne!(filled, "0", "{table}.{column}: the sample fills every credential column");
        assert_eq!(other, "0", "{table}.{column}: every value is an envelope of the recorded key");
    }
    // No fixed password: only agent0 and manager0 have one (generated by the run, not shown off the sandbox).
    let with_password = db.strings("SELECT email FROM acme_schema.users WHERE password_hash IS NOT NULL ORDER BY 1");
    assert_eq!(with_password, ["agent0@acme.example", "manager0@acme.example"]);
    let shown = run.stdout + &run.stderr;
    assert!(
        !shown.as_bytes().windows(24).any(|w| w.iter().all(u8::is_ascii_hexdigit)),
        "a key or password was printed: {shown}"
    );
    // Monthly partitioned tables got rows (the sample's dates are in the DEFAULT partition or a month's).
    for table in PARTITIONED {
        let n = db.scalar(&format!("SELECT count(*)::text FROM acme_schema.{table}"));
        assert_ne!(n, "0", "{table}");
    }
    db.provision().in_workspace(&ws).args(["seed", "--tenant", "acme", "--sample", "120"]).success();
    assert_eq!(counts(&db), loaded, "a rerun with the same seed adds nothing");
    db.provision().in_workspace(&ws).arg("verify").success();
}

#[test]
fn writes_are_audited_and_the_application_trail_is_append_only() {
    let (db, ws) = provisioned();
    let login = app_login(&db, &ws, "acme");
    let acme = tenant_id(&db, "acme");
    db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &acme).await;
        c.batch_execute(
            "INSERT INTO acme_schema.customers (customer_number, first_name) VALUES ('C-9', 'Ravi'); \
             UPDATE acme_schema.customers SET first_name = 'Ravi K' WHERE customer_number = 'C-9'; \
             INSERT INTO acme_schema.audit_logs (action, entity_type) VALUES ('EXPORT', 'customers'); \
             INSERT INTO acme_schema.communication_delivery_status (channel, message_id, status) \
             VALUES ('sms', gen_random_uuid(), 'delivered')",
        )
        .await
        .expect("the application writes");
        for attempt in [
            "UPDATE acme_schema.audit_logs SET action = 'X'",
            "DELETE FROM acme_schema.audit_logs",
            "TRUNCATE acme_schema.audit_logs",
        ] {
            let err = c.batch_execute(attempt).await.expect_err(attempt);
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{attempt}: {err:?}");
        }
    });
    // Not even the tenant's owner: the guard raises.
    let owner = format!("SET ROLE acme_owner; SET app.tenant_id = '{acme}'; DELETE FROM acme_schema.audit_logs");
    let err = db.with(async |c| c.batch_execute(&owner).await).expect_err("owner delete");
    assert!(format!("{err:?}").contains("append-only"), "{err:?}");
    let trail = db.strings("SELECT table_name || ' ' || operation FROM audit.acme_audit_log ORDER BY \"timestamp\", 1");
    // The administrator made by `up`, then the login's writes; nothing for audit_logs ([audit] exclude).
    assert_eq!(trail, ["users INSERT", "customers INSERT", "customers UPDATE", "communication_delivery_status INSERT"]);
}

#[test]
fn db_create_with_a_sample_loads_it_into_the_clone_under_the_clones_own_key() {
    let db = TestDb::new();
    let ws = Workspace::new(&format!("{TWO_INSURERS}# test database {}\n", db.name));
    let name = format!("{}_s", db.name);
    db.provision().in_workspace(&ws).args(["db", "create", &name, "--sample", "40"]).success();
    let url = support::with_database(&db.url, &name);
    let found: Vec<String> = support::runtime().block_on(async {
        let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
        let c = target.connect().await.unwrap_or_else(|e| panic!("connect to {name}: {e:#}"));
        let mut found = Vec::new();
        for sql in [
            "SELECT count(*)::text FROM acme_schema.policies",
            "SELECT count(*)::text FROM beta_schema.policies",
            "SELECT count(*)::text FROM acme_schema.email_accounts WHERE imap_password LIKE 'enc1:%'",
            "SELECT count(*)::text FROM shared.tenant_keys WHERE retired_at IS NULL",
            "SELECT count(*)::text FROM acme_schema.users WHERE email = 'admin@intelipro.com'",
        ] {
            found.push(c.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")).get(0));
        }
        found
    });
    assert_eq!(
        found,
        ["40", "40", "1", "2", "0"],
        "policies of both tenants, ciphertext, a key each, no default admin"
    );
    db.provision().in_workspace(&ws).args(["db", "drop", &name]).success();
}

#[test]
fn rollover_extends_the_monthly_window_with_isolated_partitions_and_verify_stays_clean() {
    let (db, ws) = provisioned();
    let now = db.scalar("SELECT to_char(date_trunc('month', localtimestamp) + interval '2 months', 'YYYY-MM-15')");
    let newest = db.scalar("SELECT to_char(date_trunc('month', localtimestamp) + interval '5 months', 'YYYY_MM')");
    db.provision().in_workspace(&ws).args(["partitions", "rollover", "--now", &now]).success();
    for table in PARTITIONED {
        let part = format!("acme_schema.{table}_p{newest}");
        let found = db.scalar(&format!(
            "SELECT (relrowsecurity AND relforcerowsecurity)::text || ' ' || \
             (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid AND polname = 'tenant_isolation')::text \
             FROM pg_class c WHERE c.oid = to_regclass('{part}')"
        ));
        assert_eq!(found, "true 1", "{part}: made by rollover, RLS forced with the tenant policy");
    }
    db.provision().in_workspace(&ws).arg("verify").success();
}
