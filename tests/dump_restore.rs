//! A whole-database dump restores cleanly: `pg_dumpall --roles-only` plus
//! `pg_dump` of a provisioned, seeded database, loaded with psql as a
//! superuser into a fresh cluster (the most common DBA backup there is),
//! gives back every row, the dashboard's included, and a database that
//! `provision verify` finds clean. Verify's normalisation of what a restore
//! re-parses (CHECK constraints, default ACLs) must not hide real drift,
//! which the last test checks. The per-tenant round trip (`provision tenant
//! backup`) is in tests/backup.rs.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use provision::Sandbox;
use support::{TestDb, Workspace};

const LIC_AND_HDFC: &str = "[tenants.lic]\nname = \"LIC\"\n\n[tenants.hdfc]\nname = \"HDFC Life\"\n";
const ROW_COUNTS: &str = include_str!("sql/row_counts.sql");

/// A second, empty cluster, destroyed when dropped (also after a panic).
struct FreshCluster {
    sandbox: Sandbox,
    _dir: tempfile::TempDir,
}

impl FreshCluster {
    fn start() -> FreshCluster {
        use std::os::unix::fs::PermissionsExt;
        // The server runs as an unprivileged user when we are root: it must reach its root.
        let dir = tempfile::Builder::new().prefix("provision-restore-").tempdir_in("/tmp").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let sandbox = Sandbox::new(dir.path().join("pg"), None);
        support::runtime().block_on(sandbox.start()).expect("start the fresh cluster");
        FreshCluster { sandbox, _dir: dir }
    }

    fn url(&self, database: &str) -> String {
        support::with_database(&self.sandbox.url(), database)
    }
}

impl Drop for FreshCluster {
    fn drop(&mut self) {
        let _ = self.sandbox.destroy();
    }
}

/// A PostgreSQL client program, with no connection settings from the environment.
fn client(program: &str) -> Command {
    let mut command = Command::new(program);
    for var in support::CONNECTION_VARS {
        command.env_remove(var);
    }
    command
}

fn succeeded(what: &str, out: Output) -> Vec<u8> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what} failed ({}):\n{stderr}", out.status);
    out.stdout
}

/// The roles and the database, as a DBA dumps them. The restoring superuser
/// exists in every cluster (initdb made it), so its CREATE ROLE is left out,
/// as a DBA would; its ALTER ROLE stays.
fn dump(db: &TestDb, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let superuser = db.scalar("SELECT current_user");
    let roles = succeeded("pg_dumpall", client("pg_dumpall").args(["--roles-only", "-d", &db.url]).output().unwrap());
    let roles = String::from_utf8(roles).unwrap();
    let create_superuser = format!("CREATE ROLE {superuser};");
    assert!(roles.lines().any(|l| l == create_superuser), "{roles}");
    let roles: Vec<&str> = roles.lines().filter(|l| *l != create_superuser).collect();
    let database = succeeded("pg_dump", client("pg_dump").args(["--create", "-d", &db.url]).output().unwrap());
    let (roles_file, database_file) = (dir.join("roles.sql"), dir.join("database.sql"));
    std::fs::write(&roles_file, roles.join("\n")).unwrap();
    std::fs::write(&database_file, database).unwrap();
    (roles_file, database_file)
}

/// psql as the superuser, stopping at the first error.
fn restore(url: &str, file: &Path) {
    let out = client("psql").args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"]).arg(file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "psql -f {} failed:\n{stderr}", file.display());
    assert!(!stderr.contains("ERROR"), "{stderr}");
}

fn strings(url: &str, sql: &str) -> Vec<String> {
    let out = succeeded(
        "psql",
        client("psql").args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]).output().unwrap(),
    );
    String::from_utf8(out).unwrap().lines().map(str::to_owned).collect()
}

/// Structure findings of a verify run: (scope, kind, object).
fn structure_findings(out: &support::Outcome) -> Vec<String> {
    let mut found: Vec<String> = out.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "structure")
        .map(|f| format!("{} {} {} {}", f["scope"], f["problem"], f["kind"], f["object"]).replace('"', ""))
        .collect();
    found.sort();
    found
}

#[test]
fn a_whole_database_dump_restores_into_a_fresh_cluster_and_verifies_clean() {
    let db = TestDb::new();
    let ws = Workspace::new(LIC_AND_HDFC);
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision().in_workspace(&ws).args(["seed", "--sample", "400"]).success();
    db.execute("SELECT lic_schema.refresh_agent_metrics(); SELECT hdfc_schema.refresh_agent_metrics();");
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM lic_schema.agent_dashboard_metrics"),
        "2",
        "the dashboard has data"
    );
    let source = db.strings(ROW_COUNTS);
    assert!(source.iter().any(|c| c.starts_with("lic_schema.insurance_policies 400")), "{source:?}");

    let files = tempfile::tempdir().unwrap();
    let (roles, database) = dump(&db, files.path());
    let fresh = FreshCluster::start();
    restore(&fresh.url("postgres"), &roles);
    restore(&fresh.url("postgres"), &database);

    let restored = fresh.url(&db.name);
    assert_eq!(strings(&restored, ROW_COUNTS.trim_end().trim_end_matches(';')), source, "row counts differ");
    let dashboard =
        "SELECT (agent_id, total_policies, total_premium)::text FROM lic_schema.agent_dashboard_metrics ORDER BY 1";
    assert_eq!(strings(&restored, dashboard), db.strings(dashboard));
    support::Run::new().env("DATABASE_URL", &restored).in_workspace(&ws).arg("verify").success();

    // The same normalisation still sees a CHECK that allows something else.
    strings(
        &restored,
        "ALTER TABLE audit.lic_audit_log DROP CONSTRAINT lic_audit_log_operation_check, \
         ADD CONSTRAINT lic_audit_log_operation_check CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'))",
    );
    let out = support::Run::new().env("DATABASE_URL", &restored).in_workspace(&ws).args(["--json", "verify"]).status(1);
    assert_eq!(structure_findings(&out), ["lic changed constraint audit.lic_audit_log.lic_audit_log_operation_check"]);
}

#[test]
fn a_changed_check_or_grant_is_still_found_in_either_form() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    // The form pg_dump gives back, with one value fewer; the form a template
    // writes, with one value more; and a grant an owner's default ACL lacks.
    db.execute(
        "ALTER TABLE audit.lic_audit_log DROP CONSTRAINT lic_audit_log_operation_check, \
           ADD CONSTRAINT lic_audit_log_operation_check CHECK ((operation)::text = ANY \
             (ARRAY[('INSERT'::character varying)::text, ('UPDATE'::character varying)::text]));
         ALTER TABLE shared.tenants DROP CONSTRAINT tenants_status_check, \
           ADD CONSTRAINT tenants_status_check CHECK (status IN ('active', 'inactive', 'suspended', 'archived'));
         GRANT SELECT ON lic_schema.refinery_schema_history TO lic_ro;",
    );
    let out = db.provision().in_workspace(&ws).args(["--json", "verify"]).status(1);
    assert_eq!(
        structure_findings(&out),
        [
            "lic changed constraint audit.lic_audit_log.lic_audit_log_operation_check",
            "lic changed table lic_schema.refinery_schema_history",
            "shared changed constraint shared.tenants.tenants_status_check",
        ]
    );
}
