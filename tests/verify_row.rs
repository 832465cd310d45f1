//! `provision verify` for row tenancy (issue 14), on the branches test pack:
//! a clean database passes in every format; each drift made by hand as
//! superuser (a table without the tenant column, a dropped restrictive
//! policy, RLS no longer forced, a plain foreign key instead of the
//! composite one, a kept table tied to the tenant table, a reference table
//! gone, a tenant's row deleted, a row nobody registered, a tenant role that
//! reaches another tenant's) is a named finding and exit 1; and verify
//! issues as many statements for 30 row tenants as for 2 (counted in the
//! server log).

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

/// Applies `sql` to a database provisioned with branches `vn<tag>` and
/// `vs<tag>` (`{north}` and `{south}` in `sql`; roles are the cluster's, so
/// every test has codes of its own), and runs verify, which must exit 1;
/// its JSON findings and its text report.
fn drift(tag: &str, sql: &str) -> (TestDb, Vec<Finding>, String) {
    let (north, south) = (format!("vn{tag}"), format!("vs{tag}"));
    let (db, ws) = provisioned(&[&north, &south]);
    db.execute(&sql.replace("{north}", &north).replace("{south}", &south));
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
    // A sentence that names its object is printed as it is, else followed by kind and object.
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
    let (db, ws) = provisioned(&["vn1", "vs1"]);
    assert_eq!(db.strings("SELECT code FROM branchco.branches ORDER BY code"), ["vn1", "vs1"]);
    assert_eq!(
        db.strings("SELECT tenant_code FROM shared.tenants WHERE schema_name IS NULL ORDER BY 1"),
        ["vn1", "vs1"]
    );
    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "json"]).success();
    assert!(findings_of(&out).is_empty(), "{}", out.stdout);
    let json = out.json();
    assert_eq!(json["row_tenants"], serde_json::json!(["vn1", "vs1"]), "{}", out.stdout);
    assert_eq!(json["row_blueprints"], serde_json::json!(["branches"]), "{}", out.stdout);
    let text = db.provision().in_workspace(&ws).arg("verify").success();
    assert_eq!(text.stdout.lines().count(), 1, "a clean run prints only its summary:\n{}", text.stdout);
    assert!(text.stdout.contains("verify: 2 tenants and the shared schemas clean ("), "{}", text.stdout);
    let junit = db.provision().in_workspace(&ws).args(["verify", "--format", "junit"]).success().stdout;
    for suite in ["name=\"row:branches\"", "name=\"vn1\"", "name=\"vs1\"", "name=\"shared\""] {
        assert!(junit.contains(&format!("<testsuite {suite}")), "no testsuite {suite}:\n{junit}");
    }
    assert!(!junit.contains("<failure"), "{junit}");
    // No schema tenant's checks for a row tenant (4 for the pack, 2 per branch, 4 shared).
    assert!(junit.contains("<testsuites name=\"provision verify\" tests=\"12\" failures=\"0\""), "{junit}");
}

#[test]
fn a_table_without_the_tenant_column_is_named() {
    let (db, findings, text) = drift("2", "CREATE TABLE branchco.stray (id int PRIMARY KEY, note text)");
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
    let (db, findings, text) = drift("3", "DROP POLICY staff_tenant ON branchco.staff");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_policy WHERE polrelid = 'branchco.staff'::regclass"), "1");
    let f = the(&findings, &text, (SCOPE, "rls", "policy", "branchco.staff"));
    assert!(f.4.contains("no RESTRICTIVE policy for PUBLIC on branch_id"), "{f:?}");
    assert!(f.4.ends_with("SELECT, INSERT, UPDATE, DELETE"), "{f:?}");
    only_about(&findings, "branchco.staff");
}

#[test]
fn rls_no_longer_forced_is_named() {
    let (db, findings, text) = drift("4", "ALTER TABLE branchco.orders NO FORCE ROW LEVEL SECURITY");
    assert_eq!(
        db.scalar("SELECT relforcerowsecurity::text FROM pg_class WHERE oid = 'branchco.orders'::regclass"),
        "false"
    );
    let f = the(&findings, &text, (SCOPE, "rls", "table", "branchco.orders"));
    assert_eq!(f.4, "branchco.orders has row level security not ENABLEd and FORCEd (not forced)");
    only_about(&findings, "branchco.orders");
}

#[test]
fn a_plain_foreign_key_instead_of_the_composite_one_is_named() {
    let (db, findings, text) = drift(
        "5",
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
fn views_that_read_around_the_policies_are_named_and_harmless_ones_are_not() {
    let (db, findings, text) = drift(
        "12",
        "CREATE VIEW branchco.all_staff AS SELECT id, name FROM branchco.staff;
         CREATE MATERIALIZED VIEW branchco.order_totals AS SELECT branch_id, sum(total) AS total FROM branchco.orders GROUP BY 1;
         CREATE VIEW branchco.own_staff WITH (security_invoker) AS SELECT id, name FROM branchco.staff;
         CREATE VIEW branchco.country_names AS SELECT name FROM branchco.countries;
         CREATE VIEW branchco.staff_names AS SELECT name FROM branchco.all_staff;
         GRANT SELECT ON branchco.all_staff TO provision_tenant_readers;
         GRANT SELECT ON branchco.order_totals, branchco.own_staff, branchco.country_names TO provision_tenant_apps",
    );
    assert_eq!(
        db.scalar("SELECT has_table_privilege('provision_tenant_apps', 'branchco.order_totals', 'SELECT')::text"),
        "true"
    );
    let f = the(&findings, &text, (SCOPE, "rls", "view", "branchco.all_staff"));
    assert_eq!(
        f.4,
        "branchco.all_staff reads branchco.staff with its owner's rights (it is not security_invoker), and \
         provision_tenant_readers can SELECT it: row level security does not filter what it shows"
    );
    let f = the(&findings, &text, (SCOPE, "rls", "materialized view", "branchco.order_totals"));
    assert!(f.4.contains("reads branchco.orders into a materialized view"), "{f:?}");
    // A security_invoker view, one of reference data, and one nobody may read add no way in.
    let row: Vec<&Finding> = findings.iter().filter(|f| f.0 == SCOPE).collect();
    assert_eq!(row.len(), 2, "{row:#?}");
}

#[test]
fn a_partition_without_row_level_security_is_named_and_one_without_policies_is_not() {
    let (db, findings, text) = drift(
        "13",
        "CREATE TABLE branchco.visits (
             id int NOT NULL, branch_id int NOT NULL REFERENCES branchco.branches (id), at date NOT NULL,
             PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE branchco.visits_2026 PARTITION OF branchco.visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         CREATE TABLE branchco.visits_2027 PARTITION OF branchco.visits FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
         ALTER TABLE branchco.visits ENABLE ROW LEVEL SECURITY;
         ALTER TABLE branchco.visits FORCE ROW LEVEL SECURITY;
         CREATE POLICY visits_rows ON branchco.visits USING (true);
         CREATE POLICY visits_tenant ON branchco.visits AS RESTRICTIVE USING (branch_id = (SELECT branchco.current_branch()));
         ALTER TABLE branchco.visits_2027 ENABLE ROW LEVEL SECURITY;
         ALTER TABLE branchco.visits_2027 FORCE ROW LEVEL SECURITY",
    );
    assert_eq!(
        db.scalar("SELECT relrowsecurity::text FROM pg_class WHERE oid = 'branchco.visits_2026'::regclass"),
        "false"
    );
    let f = the(&findings, &text, (SCOPE, "rls", "table", "branchco.visits_2026"));
    assert_eq!(f.4, "branchco.visits_2026 has row level security not ENABLEd and FORCEd (not enabled, not forced)");
    // visits itself is complete, and visits_2027 lets nothing through without policies of its own.
    let row: Vec<&Finding> = findings.iter().filter(|f| f.0 == SCOPE).collect();
    assert_eq!(row.len(), 1, "{row:#?}");
}

#[test]
fn a_kept_table_tied_to_the_tenant_table_and_a_missing_reference_table_are_named() {
    let (db, findings, text) = drift(
        "6",
        "ALTER TABLE branchco.activity ADD CONSTRAINT activity_branch FOREIGN KEY (branch_id) REFERENCES branchco.branches (id);
         DROP TABLE branchco.countries CASCADE",
    );
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_class WHERE oid = to_regclass('branchco.countries')"), "0");
    let f = the(&findings, &text, (SCOPE, "constraints", "constraint", "branchco.activity.activity_branch"));
    assert!(f.4.contains("from a [row] keep table, whose rows must outlive their tenant"), "{f:?}");
    let f = the(&findings, &text, (SCOPE, "structure", "table", "branchco.countries"));
    assert_eq!(f.4, "branchco.countries does not exist (declared in [row] reference)");
    let row_findings = findings.iter().filter(|f| f.0 == SCOPE).count();
    assert_eq!(row_findings, 2, "{findings:#?}");
}

#[test]
fn a_tenant_role_that_reaches_another_branch_or_logs_in_is_named() {
    let (db, findings, text) = drift("7", "GRANT {south}_app TO {north}_app; ALTER ROLE {north}_ro LOGIN");
    assert_eq!(db.scalar("SELECT pg_has_role('vn7_app', 'vs7_app', 'MEMBER')::text"), "true");
    let f = the(&findings, &text, ("vn7", "roles", "role", "vn7_app"));
    assert!(f.4.starts_with("is a member of vs7_app"), "{f:?}");
    let f = the(&findings, &text, ("vn7", "roles", "role", "vn7_ro"));
    assert_eq!(f.4, "can log in");
    assert!(findings.iter().all(|f| f.0 == "vn7" && f.1 == "roles"), "{findings:#?}");
}

#[test]
fn tenant_add_verifies_its_own_row_and_the_pack() {
    let (db, ws) = provisioned(&["vn8"]);
    // A row nobody registered is the whole database's business, not the new tenant's.
    db.execute("INSERT INTO branchco.branches (code, name) VALUES ('west', 'West')");
    let add = ["tenant", "add", "ve8", "--blueprint", "branches", "--name", "East"];
    db.provision().in_workspace(&ws).args(add).success();
    assert_eq!(db.strings("SELECT code FROM branchco.branches ORDER BY code"), ["ve8", "vn8", "west"]);
    // The pack's drift is: the new tenant is as exposed as the others.
    db.execute("ALTER TABLE branchco.staff DISABLE ROW LEVEL SECURITY");
    let out = db.provision().in_workspace(&ws).args(["tenant", "add", "vs8", "--blueprint", "branches", "--name", "S"]);
    let out = out.status(1);
    let line = "row:branches: rls branchco.staff has row level security not ENABLEd and FORCEd (not enabled)\n";
    assert!(out.stderr.contains(line), "{}{}", out.stdout, out.stderr);
}

#[test]
fn a_tenant_table_without_its_code_column_is_named() {
    let (db, findings, text) = drift("15", "ALTER TABLE branchco.branches RENAME COLUMN code TO branch_code");
    assert_eq!(db.scalar("SELECT count(*)::text FROM branchco.branches WHERE branch_code LIKE 'v_15'"), "2");
    let f = the(&findings, &text, (SCOPE, "structure", "table", "branchco.branches"));
    assert_eq!(f.4, "branchco.branches (the [row] table) has no code column ([row] code)");
    let row: Vec<&Finding> = findings.iter().filter(|f| f.0 == SCOPE || f.1 == "registry").collect();
    assert_eq!(row.len(), 1, "{row:#?}");
}

#[test]
fn a_row_tenant_registered_with_a_schema_is_named() {
    let (db, findings, text) =
        drift("16", "UPDATE shared.tenants SET schema_name = 'vs16_schema' WHERE tenant_code = 'vs16'");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'vs16_schema'"), "0");
    let f = the(&findings, &text, ("vs16", "registry", "tenant", "vs16"));
    assert_eq!(f.4, "vs16 is registered with schema vs16_schema but blueprint branches keeps tenants in rows ([row])");
    // Still checked as a row tenant, not as a schema that is missing.
    assert_eq!(findings.len(), 1, "{findings:#?}");
}

#[test]
fn a_registered_branch_whose_row_was_deleted_is_named() {
    let (db, findings, text) = drift("9", "DELETE FROM branchco.branches WHERE code = '{south}'");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'vs9'"), "1");
    let f = the(&findings, &text, ("vs9", "registry", "row", "branchco.branches (code = 'vs9')"));
    assert_eq!(
        f.4,
        "branchco.branches (code = 'vs9') is missing: tenant vs9 is registered (shared.tenants) without its row"
    );
    assert_eq!(findings.len(), 1, "the other branch and the pack are untouched: {findings:#?}");
}

#[test]
fn a_branch_row_nobody_registered_is_named() {
    let (db, findings, text) = drift("10", "INSERT INTO branchco.branches (code, name) VALUES ('west', 'West')");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'west'"), "0");
    let f = the(&findings, &text, (SCOPE, "registry", "row", "branchco.branches (code = 'west')"));
    assert!(
        f.4.starts_with("branchco.branches (code = 'west') belongs to no tenant: none of blueprint branches"),
        "{f:?}"
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
}

#[test]
fn schema_and_row_tenants_side_by_side_are_each_checked_their_own_way() {
    let db = TestDb::new();
    let ws = Workspace::new(
        "[tenants.vm14]\nname = \"Mitra\"\n[tenants.vn14]\nname = \"North\"\nblueprint = \"branches\"\n",
    );
    let pack = ws.own_templates().join("branches");
    let fixture = support::repo().join("tests/fixtures/branches");
    std::fs::create_dir_all(pack.join("shared")).unwrap();
    std::fs::copy(fixture.join("blueprint.toml"), pack.join("blueprint.toml")).unwrap();
    std::fs::copy(fixture.join("shared/V1__tables.sql"), pack.join("shared/V1__tables.sql")).unwrap();
    db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(
        db.strings("SELECT tenant_code || ' ' || coalesce(schema_name, '-') FROM shared.tenants ORDER BY 1"),
        ["vm14 vm14_schema", "vn14 -"]
    );
    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "json"]).success();
    let json = out.json();
    assert_eq!(json["tenants"], serde_json::json!(["vm14", "vn14"]), "{}", out.stdout);
    assert_eq!(json["row_tenants"], serde_json::json!(["vn14"]), "{}", out.stdout);
    let junit = db.provision().in_workspace(&ws).args(["verify", "--format", "junit"]).success().stdout;
    // 10 checks for the schema tenant, 2 for the row tenant, 4 for the pack, 4 shared.
    assert!(junit.contains("<testsuites name=\"provision verify\" tests=\"20\" failures=\"0\""), "{junit}");
    // Drift in each is reported under its own scope only.
    let index = db.scalar(
        "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relnamespace = 'vm14_schema'::regnamespace AND NOT c.relispartition
           AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid)
         ORDER BY 1 LIMIT 1",
    );
    db.execute(&format!("DROP INDEX vm14_schema.{index}; DROP POLICY orders_tenant ON branchco.orders"));
    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "json"]).status(1);
    let findings = findings_of(&out);
    let scopes: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(scopes, ["row:branches", "shared", "vm14"].into(), "{findings:#?}");
    assert!(
        findings.iter().any(|f| f.0 == "vm14" && f.2 == "index" && f.3 == format!("vm14_schema.{index}")),
        "{findings:#?}"
    );
    assert!(findings.iter().any(|f| f.0 == SCOPE && f.2 == "policy" && f.3 == "branchco.orders"), "{findings:#?}");
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
    let (db, ws) = provisioned(&["vn11", "vs11"]);
    // Once, so the shared schemas' reference comes from the cache in both counted runs.
    db.provision().in_workspace(&ws).env("PROVISION_CACHE_DIR", ws.path().join("cache")).arg("verify").success();
    db.execute(&format!("ALTER DATABASE {} SET log_statement = 'all'", db.name));
    let two = statements(&db, &ws, &log, &["verify"]);
    assert!(
        two.iter().any(|s| s.contains("what keeps one row blueprint")),
        "the row catalog query is not logged: {two:#?}"
    );
    let codes: Vec<String> = (1..=28).map(|n| format!("vb11_{n}")).chain(["vn11".into(), "vs11".into()]).collect();
    let many = branches_workspace(&codes.iter().map(String::as_str).collect::<Vec<_>>());
    db.provision().in_workspace(&many).args(["up", "--no-verify"]).success();
    assert_eq!(db.scalar("SELECT count(*)::text FROM branchco.branches"), "30");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE schema_name IS NULL"), "30");
    let thirty = statements(&db, &ws, &log, &["verify"]);
    assert_eq!(two.len(), thirty.len(), "2 branches:\n{two:#?}\n30 branches:\n{thirty:#?}");
    assert_eq!(two, thirty);
}
