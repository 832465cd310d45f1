//! provision on a server without pgaudit. The harness cluster of this test
//! binary starts without pgaudit preloaded even where it is installed
//! (`support::without_pgaudit`), since every other binary's cluster preloads
//! it. Reads of PHI cannot be audited there, so `up` warns exactly once and
//! still succeeds; it still grants the auditor role SELECT on the
//! `[audit] reads` tables (loading pgaudit later is then all a DBA has to
//! do), sets no `pgaudit.role`, and verify checks those grants.

mod support;

use support::{Outcome, TestDb, Workspace};

const TWO_PLANS: &str = "[tenants.hp1]\nname = \"HP1\"\nblueprint = \"health_insurance\"\n\
                         [tenants.hp2]\nname = \"HP2\"\nblueprint = \"health_insurance\"\n";

const UNAUDITED: &str = "warning: reads of blueprint health_insurance's [audit] reads tables are NOT audited: \
                         pgaudit is not loaded; install it (Debian: postgresql-15-pgaudit), add it to \
                         shared_preload_libraries and restart, then run `provision up`";

/// A database on the cluster without pgaudit (checked: else this binary tests nothing).
fn db_without_pgaudit() -> TestDb {
    support::without_pgaudit();
    let db = TestDb::new();
    let preloaded = db.scalar("SELECT current_setting('shared_preload_libraries')");
    assert!(!preloaded.contains("pgaudit"), "the cluster preloads pgaudit ({preloaded}); is TEST_DATABASE_URL set?");
    db
}

/// The `[audit] reads` tables of the shipped health_insurance pack, sorted.
fn read_audited_tables() -> Vec<String> {
    let path = support::repo().join("templates/health_insurance/blueprint.toml");
    let manifest: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let reads = manifest["audit"]["reads"].as_array().expect("[audit] reads");
    let mut tables: Vec<String> = reads.iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    tables.sort();
    tables
}

/// The tables of `schema` that provision_auditor may SELECT, sorted.
fn auditor_reads(db: &TestDb, schema: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'p') AND c.relispartition = false \
           AND has_table_privilege('provision_auditor', c.oid, 'SELECT') ORDER BY 1"
    ))
}

/// This database's own settings that name pgaudit.
fn pgaudit_settings(db: &TestDb) -> Vec<String> {
    db.strings(
        "SELECT cfg FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) cfg \
         WHERE d.datname = current_database() AND cfg LIKE 'pgaudit.%'",
    )
}

fn warnings_in(out: &Outcome) -> Vec<&str> {
    out.stderr.lines().filter(|l| l.contains("NOT audited")).collect()
}

#[test]
fn up_warns_once_that_reads_are_not_audited_and_still_grants_the_auditor() {
    let db = db_without_pgaudit();
    let ws = Workspace::new(TWO_PLANS);
    let out = db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(warnings_in(&out), [UNAUDITED], "two tenants, one warning:\n{}", out.stderr);

    for schema in ["hp1_schema", "hp2_schema"] {
        assert_eq!(auditor_reads(&db, schema), read_audited_tables(), "{schema}");
    }
    assert_eq!(pgaudit_settings(&db), Vec::<String>::new(), "pgaudit.role set without pgaudit");
    let auditor = "SELECT rolcanlogin::text || ' ' || (SELECT count(*) FROM pg_auth_members m WHERE m.roleid = r.oid) \
                   FROM pg_roles r WHERE rolname = 'provision_auditor'";
    assert_eq!(db.scalar(auditor), "false 0");

    // A later run warns again, once: each process says it.
    let again = db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(warnings_in(&again), [UNAUDITED]);
}

#[test]
fn verify_without_pgaudit_checks_the_auditor_grants_and_asks_for_no_pgaudit_role() {
    let db = db_without_pgaudit();
    let ws = Workspace::new(TWO_PLANS);
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision().in_workspace(&ws).arg("verify").success().stdout_has("clean");

    // A lost grant is a finding, though pgaudit is absent: it would leave reads unaudited once it is loaded.
    db.execute("REVOKE SELECT ON hp1_schema.members FROM provision_auditor");
    assert!(!auditor_reads(&db, "hp1_schema").contains(&"members".to_owned()));
    db.provision().in_workspace(&ws).arg("verify").status(1).stdout_has(
        "hp1: audit reads are not audited: provision_auditor lacks SELECT (run `provision up`) table hp1_schema.members",
    );
    let repaired = db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(warnings_in(&repaired), [UNAUDITED]);
    assert_eq!(auditor_reads(&db, "hp1_schema"), read_audited_tables());
    db.provision().in_workspace(&ws).arg("verify").success().stdout_has("clean");
    assert_eq!(pgaudit_settings(&db), Vec::<String>::new());
}
