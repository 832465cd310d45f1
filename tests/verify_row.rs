//! `provision verify` for row tenancy (issue 14), on the branches test pack:
//! a clean database passes in every format; each drift made by hand as
//! superuser (a table without the tenant column, a dropped restrictive
//! policy, RLS no longer forced, a plain foreign key instead of the
//! composite one, a tenant's row deleted, a row nobody registered) is a
//! named finding and exit 1; and verify issues as many statements for 30
//! row tenants as for 2 (counted in the server log).

mod support;

use support::branches::branches_workspace;
use support::{Outcome, TestDb, Workspace};

/// The blueprint scope of the branches pack's findings.
const SCOPE: &str = "row:branches";

/// One finding of `verify --format json`: (scope, check, kind, object, problem).
type Finding = (String, String, String, String, String);

fn provisioned(codes: &[&str]) -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = branches_workspace(codes);
    // `up` ends with verify: a clean pack and two fresh branches pass it.
    db.provision().in_workspace(&ws).arg("up").success();
    (db, ws)
}

fn findings_of(out: &Outcome) -> Vec<Finding> {
    let json = out.json();
    let text = |f: &serde_json::Value, key: &str| f[key].as_str().unwrap_or_else(|| panic!("{key} in {f}")).to_owned();
    let all = json["findings"].as_array().unwrap_or_else(|| panic!("no findings array:\n{}", out.stdout));
    all.iter()
        .map(|f| (text(f, "scope"), text(f, "check"), text(f, "kind"), text(f, "object"), text(f, "problem")))
        .collect()
}

/// Applies `sql` to a database provisioned with north and south, and runs
/// verify, which must exit 1; its JSON findings and its text report.
fn drift(sql: &str) -> (TestDb, Vec<Finding>, String) {
    let (db, ws) = provisioned(&["north", "south"]);
    db.execute(sql);
    let json = db.provision().in_workspace(&ws).args(["verify", "--format", "json"]).status(1);
    let text = db.provision().in_workspace(&ws).arg("verify").status(1);
    (db, findings_of(&json), text.stdout)
}

/// The one finding with this scope, check, kind and object; the text report
/// has its line.
fn the<'a>(findings: &'a [Finding], text: &str, key: (&str, &str, &str, &str)) -> &'a Finding {
    let (scope, check, kind, object) = key;
    let matching: Vec<&Finding> =
        findings.iter().filter(|f| (f.0.as_str(), f.1.as_str(), f.2.as_str(), f.3.as_str()) == key).collect();
    assert_eq!(matching.len(), 1, "one {check} finding about {kind} {object} in {scope}:\n{findings:#?}");
    let line = format!("{scope}: {check} {}", matching[0].4);
    assert!(text.lines().any(|l| l.starts_with(&line)), "text report lacks {line:?}:\n{text}");
    matching[0]
}

/// No finding of the row checks but those about `object` (the shared
/// schemas' structural comparison may see the same drift too).
fn only_about(findings: &[Finding], object: &str) {
    let row_checks = findings.iter().filter(|f| f.0 == SCOPE || f.1 == "registry");
    let others: Vec<&Finding> = row_checks.filter(|f| !f.3.starts_with(object)).collect();
    assert!(others.is_empty(), "findings about other objects than {object}: {others:#?}");
}

#[test]
fn a_clean_database_with_two_branches_passes_in_every_format() {
    let (db, ws) = provisioned(&["north", "south"]);
    assert_eq!(db.strings("SELECT code FROM branchco.branches ORDER BY code"), ["north", "south"]);
    assert_eq!(
        db.strings("SELECT tenant_code FROM shared.tenants WHERE schema_name IS NULL ORDER BY 1"),
        ["north", "south"]
    );
    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "json"]).success();
    assert!(findings_of(&out).is_empty(), "{}", out.stdout);
    let json = out.json();
    assert_eq!(json["row_tenants"], serde_json::json!(["north", "south"]), "{}", out.stdout);
    assert_eq!(json["row_blueprints"], serde_json::json!(["branches"]), "{}", out.stdout);
    let text = db.provision().in_workspace(&ws).arg("verify").success();
    assert_eq!(text.stdout.lines().count(), 1, "a clean run prints only its summary:\n{}", text.stdout);
    assert!(text.stdout.contains("verify: 2 tenants and the shared schemas clean ("), "{}", text.stdout);
    let junit = db.provision().in_workspace(&ws).args(["verify", "--format", "junit"]).success().stdout;
    for suite in ["name=\"row:branches\"", "name=\"north\"", "name=\"south\"", "name=\"shared\""] {
        assert!(junit.contains(&format!("<testsuite {suite}")), "no testsuite {suite}:\n{junit}");
    }
    assert!(!junit.contains("<failure"), "{junit}");
    // No schema tenant's checks for a row tenant (4 for the pack, 1 per branch, 4 shared).
    assert!(junit.contains("<testsuites name=\"provision verify\" tests=\"10\" failures=\"0\""), "{junit}");
}

#[test]
fn a_table_without_the_tenant_column_is_named() {
    let (db, findings, text) = drift("CREATE TABLE branchco.stray (id int PRIMARY KEY, note text)");
    assert_eq!(
        db.scalar("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'branchco.stray'::regclass AND attnum > 0"),
        "id,note"
    );
    let f = the(&findings, &text, (SCOPE, "structure", "table", "branchco.stray"));
    assert_eq!(f.4, "branchco.stray has no branch_id column; add it or declare it in [row] reference");
    only_about(&findings, "branchco.stray");
}

#[test]
fn a_dropped_restrictive_policy_is_named() {
    let (db, findings, text) = drift("DROP POLICY staff_tenant ON branchco.staff");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_policy WHERE polrelid = 'branchco.staff'::regclass"), "1");
    let f = the(&findings, &text, (SCOPE, "rls", "policy", "branchco.staff"));
    assert!(f.4.contains("no RESTRICTIVE policy for PUBLIC on branch_id"), "{f:?}");
    assert!(f.4.ends_with("SELECT, INSERT, UPDATE, DELETE"), "{f:?}");
    only_about(&findings, "branchco.staff");
}

#[test]
fn rls_no_longer_forced_is_named() {
    let (db, findings, text) = drift("ALTER TABLE branchco.orders NO FORCE ROW LEVEL SECURITY");
    assert_eq!(
        db.scalar("SELECT relforcerowsecurity::text FROM pg_class WHERE oid = 'branchco.orders'::regclass"),
        "false"
    );
    let f = the(&findings, &text, (SCOPE, "rls", "table", "branchco.orders"));
    assert!(f.4.ends_with("(not forced)"), "{f:?}");
    only_about(&findings, "branchco.orders");
}

#[test]
fn a_plain_foreign_key_instead_of_the_composite_one_is_named() {
    let (db, findings, text) = drift(
        "ALTER TABLE branchco.orders DROP CONSTRAINT orders_staff_id_branch_id_fkey;
         ALTER TABLE branchco.orders ADD CONSTRAINT orders_staff_plain FOREIGN KEY (staff_id) REFERENCES branchco.staff (id)",
    );
    assert_eq!(
        db.strings("SELECT conname::text FROM pg_constraint WHERE conrelid = 'branchco.orders'::regclass AND contype = 'f' ORDER BY 1"),
        ["orders_branch_id_fkey", "orders_staff_plain"]
    );
    let f = the(&findings, &text, (SCOPE, "constraints", "constraint", "branchco.orders.orders_staff_plain"));
    assert!(f.4.contains("references branchco.staff without branch_id on both sides"), "{f:?}");
    only_about(&findings, "branchco.orders.orders_staff_plain");
}

#[test]
fn a_registered_branch_whose_row_was_deleted_is_named() {
    let (db, findings, text) = drift("DELETE FROM branchco.branches WHERE code = 'south'");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'south'"), "1");
    let f = the(&findings, &text, ("south", "registry", "row", "branchco.branches (code = 'south')"));
    assert!(f.4.starts_with("tenant south is registered (shared.tenants) but branchco.branches has no row"), "{f:?}");
    assert_eq!(findings.len(), 1, "north and the pack are untouched: {findings:#?}");
}

#[test]
fn a_branch_row_nobody_registered_is_named() {
    let (db, findings, text) = drift("INSERT INTO branchco.branches (code, name) VALUES ('west', 'West')");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'west'"), "0");
    let f = the(&findings, &text, (SCOPE, "registry", "row", "branchco.branches (code = 'west')"));
    assert!(f.4.contains("no tenant of blueprint branches is registered with that code"), "{f:?}");
    assert_eq!(findings.len(), 1, "{findings:#?}");
}

/// The statements a run of `provision` issued in `db` (which logs them all),
/// digits masked (advisory lock keys, the portal names of a pipeline).
fn statements(db: &TestDb, ws: &Workspace, log: &std::path::Path, args: &[&str]) -> Vec<String> {
    let offset = std::fs::metadata(log).unwrap().len() as usize;
    db.provision().in_workspace(ws).env("PROVISION_CACHE_DIR", ws.path().join("cache")).args(args).success();
    let text = String::from_utf8_lossy(&std::fs::read(log).unwrap()[offset..]).into_owned();
    let masked = regex::Regex::new(r"[0-9]+").unwrap();
    let mut found: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_once("LOG:  statement: ").or_else(|| l.split_once("LOG:  execute ")))
        .map(|(_, statement)| masked.replace_all(statement, "N").into_owned())
        .collect();
    found.sort();
    found
}

#[test]
fn verify_issues_as_many_statements_for_thirty_branches_as_for_two() {
    let Some(log) = support::server().log_file.clone() else { return }; // a TEST_DATABASE_URL server: not ours to read
    let (db, ws) = provisioned(&["north", "south"]);
    // Once, so the shared schemas' reference comes from the cache in both counted runs.
    db.provision().in_workspace(&ws).env("PROVISION_CACHE_DIR", ws.path().join("cache")).arg("verify").success();
    db.execute(&format!("ALTER DATABASE {} SET log_statement = 'all'", db.name));
    let two = statements(&db, &ws, &log, &["verify"]);
    assert!(
        two.iter().any(|s| s.contains("what keeps one row blueprint")),
        "the row catalog query is not logged: {two:#?}"
    );
    let codes: Vec<String> = (1..=28).map(|n| format!("branch{n}")).chain(["north".into(), "south".into()]).collect();
    let many = branches_workspace(&codes.iter().map(String::as_str).collect::<Vec<_>>());
    db.provision().in_workspace(&many).args(["up", "--no-verify"]).success();
    assert_eq!(db.scalar("SELECT count(*)::text FROM branchco.branches"), "30");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE schema_name IS NULL"), "30");
    let thirty = statements(&db, &ws, &log, &["verify"]);
    assert_eq!(two.len(), thirty.len(), "2 branches:\n{two:#?}\n30 branches:\n{thirty:#?}");
    assert_eq!(two, thirty);
}
