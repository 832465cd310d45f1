//! `provision status --check` against a real PostgreSQL: exit 1 while `up`
//! has work left (a tenant declared but not created) or verify finds drift
//! (an index dropped behind provision's back), exit 0 once everything is
//! current and clean. The output is `status`'s own, the reason on the last line.

mod support;

use support::{TestDb, Workspace};

const ONE_TENANT: &str = "[tenants.lic]\nname = \"LIC\"\n";
const TWO_TENANTS: &str = "[tenants.lic]\nname = \"LIC\"\n\n[tenants.hdfc]\nname = \"HDFC\"\n";

fn registered(db: &TestDb) -> Vec<String> {
    db.strings("SELECT tenant_code FROM shared.tenants ORDER BY 1")
}

/// `status`'s stdout with its timings blanked, to compare two runs.
fn without_timings(stdout: &str) -> String {
    regex::Regex::new(r"\d+\.\d+ s").unwrap().replace_all(stdout, "N s").into_owned()
}

#[test]
fn check_passes_only_when_nothing_is_pending_or_drifted() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision().in_workspace(&ws).args(["status", "--check"]).success();

    ws.write_config(TWO_TENANTS);
    assert_eq!(registered(&db), ["lic"]);
    let plain = db.provision().in_workspace(&ws).arg("status").success();
    let checked = db
        .provision()
        .in_workspace(&ws)
        .args(["status", "--check"])
        .status(1)
        .one_line_error()
        .stderr_has("status --check: not created yet: hdfc");
    assert_eq!(without_timings(&checked.stdout), without_timings(&plain.stdout), "--check changed the output");
    assert_eq!(registered(&db), ["lic"], "status --check changed the registry");

    db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(registered(&db), ["hdfc", "lic"]);
    db.provision().in_workspace(&ws).args(["status", "--check"]).success();
}

#[test]
fn check_fails_on_a_dropped_index() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    db.provision().in_workspace(&ws).arg("up").success();
    // An index no constraint owns: dropping it is drift, not a broken table.
    let index = db.scalar(
        "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relnamespace = 'lic_schema'::regnamespace \
           AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         ORDER BY 1 LIMIT 1",
    );
    assert!(!index.is_empty(), "lic_schema has no index outside a constraint");
    db.execute(&format!("DROP INDEX {index}"));
    let gone = format!("SELECT count(*)::text FROM pg_class WHERE oid = to_regclass('{index}')");
    assert_eq!(db.scalar(&gone), "0");

    db.provision().in_workspace(&ws).arg("status").success();
    db.provision()
        .in_workspace(&ws)
        .args(["status", "--check"])
        .stderr_regex(r"error: status --check: verify: \d+ problems? in [^ ]*lic[^ ]* \(.*\)\n")
        .status(1);
}

#[test]
fn check_fails_while_a_tenant_version_is_pending() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    let pack = ws.own_templates().join("agent_mitra/tenant");
    db.provision().in_workspace(&ws).arg("up").success();
    let applied = "SELECT max(version)::text FROM lic_schema.refinery_schema_history";
    let before: i32 = db.scalar(applied).parse().unwrap();
    let next = before + 1;
    std::fs::write(pack.join(format!("V{next}__noop.sql.tera")), "COMMENT ON SCHEMA {{ schema }} IS 'next';\n")
        .unwrap();

    db.provision()
        .in_workspace(&ws)
        .args(["status", "--check"])
        .stderr("error: status --check: tenants with pending versions: lic\n")
        .status(1);
    assert_eq!(db.scalar(applied), before.to_string(), "status --check applied the pending version");

    db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(db.scalar(applied), next.to_string());
    db.provision().in_workspace(&ws).args(["status", "--check"]).success();
}
