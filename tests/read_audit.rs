//! Read auditing through pgaudit (issue 13): a blueprint's `[audit] reads`
//! tables are granted to `provision_auditor`, the database's `pgaudit.role`
//! names it, a real login's SELECT shows up in the server log as an OBJECT
//! audit record, and verify catches each piece going missing.
//!
//! The test cluster is the embedded sandbox, which preloads pgaudit when it
//! is installed; `.ci/run` installs it (Debian: postgresql-15-pgaudit).

mod support;

use support::{server, TestDb, Workspace};

const PASSWORD: &str = "reader-pw";

/// provision_auditor is cluster-wide and one test makes it a member of
/// another role, which every verify of the cluster then reports: the tests
/// of this binary take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A database with tenant `code` of a scaffolded pack whose `items` reads
/// are audited. Roles are cluster-wide, so each test uses its own code.
fn provisioned(code: &str) -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = Workspace::new("");
    // templates/ beside tenants.toml: the shipped packs plus the scaffold.
    std::fs::write(ws.config_path(), "# tenants come from tenant add\n").unwrap();
    db.provision().in_workspace(&ws).args(["blueprint", "init", "shop"]).success();
    let manifest = ws.path().join("templates/shop/blueprint.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace("[audit]\n", "[audit]\nreads = [\"items\"]\n");
    std::fs::write(&manifest, text).unwrap();
    db.provision().in_workspace(&ws).args(["tenant", "add", code, "--name", "Acme", "--blueprint", "shop"]).success();
    (db, ws)
}

fn pgaudit_loaded(db: &TestDb) -> bool {
    db.scalar("SELECT ('pgaudit' = ANY (string_to_array(current_setting('shared_preload_libraries'), ',')))::text")
        == "true"
}

fn database_setting(db: &TestDb) -> Vec<String> {
    db.strings(
        "SELECT c FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) c \
         WHERE d.datname = current_database() AND s.setrole = 0 AND c LIKE 'pgaudit.%'",
    )
}

#[test]
fn declared_reads_are_granted_configured_and_logged() {
    let _turn = one_at_a_time();
    let (db, ws) = provisioned("acme");
    assert!(pgaudit_loaded(&db), "the test cluster must preload pgaudit: install postgresql-15-pgaudit");
    assert_eq!(
        db.strings(
            "SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = 'acme_schema'::regnamespace \
             AND c.relkind IN ('r', 'p') AND has_table_privilege('provision_auditor', c.oid, 'SELECT') ORDER BY 1"
        ),
        ["items"]
    );
    assert_eq!(database_setting(&db), ["pgaudit.role=provision_auditor"]);
    assert_eq!(
        db.scalar(
            "SELECT (NOT rolcanlogin AND NOT EXISTS (SELECT FROM pg_auth_members WHERE roleid = r.oid))::text \
             FROM pg_roles r WHERE rolname = 'provision_auditor'"
        ),
        "true"
    );
    db.provision().in_workspace(&ws).arg("verify").success();

    // A real login reads the table: pgaudit logs an OBJECT record naming it.
    let login = format!("reader_{}", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    db.provision().in_workspace(&ws).args(["tenant", "grant", "acme", &login, "--read-only"]).success();
    let marker = format!("audited_read_{}", db.name);
    db.as_login(&login, PASSWORD, async |c| {
        c.batch_execute(&format!("SELECT /* {marker} */ count(*) FROM acme_schema.items")).await.unwrap();
    });
    let log = std::fs::read_to_string(server().log_file.as_ref().expect("a private test cluster")).unwrap();
    let record = log.lines().find(|l| l.contains(&marker) && l.contains("AUDIT: OBJECT"));
    let record = record.unwrap_or_else(|| panic!("no pgaudit OBJECT record for the read {marker}"));
    assert!(record.contains("READ,SELECT,TABLE,acme_schema.items"), "{record}");
}

#[test]
fn verify_names_a_missing_grant_a_missing_setting_and_a_member_of_the_auditor() {
    let _turn = one_at_a_time();
    let (db, ws) = provisioned("vacme");
    assert!(pgaudit_loaded(&db), "the test cluster must preload pgaudit: install postgresql-15-pgaudit");

    db.execute("REVOKE SELECT ON vacme_schema.items FROM provision_auditor");
    db.provision()
        .in_workspace(&ws)
        .arg("verify")
        .status(1)
        .stdout_has("vacme_schema.items")
        .stdout_has("provision_auditor lacks SELECT");
    db.execute("GRANT SELECT ON vacme_schema.items TO provision_auditor");

    db.execute(&format!("ALTER DATABASE {} RESET pgaudit.role", db.name));
    db.provision().in_workspace(&ws).arg("verify").status(1).stdout_has("pgaudit.role is not provision_auditor");
    assert!(database_setting(&db).is_empty(), "verify must not repair");
    db.execute(&format!("ALTER DATABASE {} SET pgaudit.role = 'provision_auditor'", db.name));

    let member = format!("snoop_{}", db.name);
    db.execute(&format!("CREATE ROLE {member} NOLOGIN; GRANT provision_auditor TO {member}"));
    let run = db.provision().in_workspace(&ws).arg("verify").status(1);
    db.execute(&format!("DROP ROLE {member}"));
    run.stdout_has(&format!("{member} is a member"));
    db.provision().in_workspace(&ws).arg("verify").success();
}

#[test]
fn the_template_gate_accepts_the_auditor_grant_and_nothing_more() {
    let _turn = one_at_a_time();
    let (db, ws) = provisioned("gacme");
    // A second tenant goes through the gate's reference walk with the grant.
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "gbeta", "--name", "Beta", "--blueprint", "shop"])
        .success();
    assert_eq!(
        db.scalar("SELECT has_table_privilege('provision_auditor', 'gbeta_schema.items', 'SELECT')::text"),
        "true"
    );
    // Anything beyond SELECT for the auditor is still a breach.
    db.execute("GRANT INSERT ON gacme_schema.items TO provision_auditor");
    db.provision().in_workspace(&ws).arg("verify").status(1).stdout_has("provision_auditor");
}

#[test]
fn up_grants_and_configures_when_a_blueprint_starts_auditing_reads() {
    let _turn = one_at_a_time();
    let db = TestDb::new();
    let ws = Workspace::new("");
    std::fs::write(ws.config_path(), "[defaults]\nblueprint = \"shop\"\n[tenants.uacme]\nname = \"Acme\"\n").unwrap();
    db.provision().in_workspace(&ws).args(["blueprint", "init", "shop"]).success();
    db.provision().in_workspace(&ws).arg("up").success();
    let granted = "SELECT has_table_privilege('provision_auditor', 'uacme_schema.items', 'SELECT')::text";
    assert_eq!(db.scalar(granted), "false");
    assert!(database_setting(&db).is_empty());

    // The pack starts auditing reads without a new version: the next `up`
    // completes the tenant (the survey sees the missing grant) and sets pgaudit.role.
    let manifest = ws.path().join("templates/shop/blueprint.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace("[audit]\n", "[audit]\nreads = [\"items\"]\n");
    std::fs::write(&manifest, text).unwrap();
    db.provision().in_workspace(&ws).arg("verify").status(1).stdout_has("provision_auditor lacks SELECT");
    db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(db.scalar(granted), "true");
    assert_eq!(database_setting(&db), ["pgaudit.role=provision_auditor"]);
    db.provision().in_workspace(&ws).arg("verify").success();
}
