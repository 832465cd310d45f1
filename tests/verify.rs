//! `provision verify`: every kind of drift, made by hand as superuser on a
//! freshly provisioned database, is reported under the right scope and check
//! with the exact object name, and nothing is blamed on the tenant that was
//! not touched. Each drift gets a database of its own, so a finding can only
//! come from that one change.

mod support;

use std::collections::BTreeSet;

use support::{Outcome, TestDb, Workspace};

const TWO_TENANTS: &str = "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n";

/// One finding of `verify --format json`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    scope: String,
    check: String,
    problem: String,
    kind: String,
    object: String,
    expected: Option<String>,
    found: Option<String>,
}

fn provisioned() -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    (db, ws)
}

fn verify_json(db: &TestDb, ws: &Workspace, args: &[&str], code: i32) -> (Outcome, Vec<Finding>) {
    let out = db.provision().in_workspace(ws).arg("verify").args(args).args(["--format", "json"]).status(code);
    let findings = findings_of(&out);
    (out, findings)
}

fn findings_of(out: &Outcome) -> Vec<Finding> {
    let json = out.json();
    let text = |f: &serde_json::Value, key: &str| f.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    json["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array:\n{}", out.stdout))
        .iter()
        .map(|f| Finding {
            scope: text(f, "scope").expect("scope"),
            check: text(f, "check").expect("check"),
            problem: text(f, "problem").expect("problem"),
            kind: text(f, "kind").expect("kind"),
            object: text(f, "object").expect("object"),
            expected: text(f, "expected"),
            found: text(f, "found"),
        })
        .collect()
}

/// Applies `sql` as superuser to a fresh two-tenant database and runs
/// `verify --format json`, which must exit 1.
fn drift(sql: &str) -> (TestDb, Vec<Finding>) {
    let (db, ws) = provisioned();
    db.execute(sql);
    let (_, findings) = verify_json(&db, &ws, &[], 1);
    (db, findings)
}

/// The one finding with this scope, check, kind and object.
fn the<'a>(findings: &'a [Finding], scope: &str, check: &str, kind: &str, object: &str) -> &'a Finding {
    let matching: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.scope == scope && f.check == check && f.kind == kind && f.object == object)
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "expected exactly one {scope}/{check} finding for {kind} {object}, got:\n{findings:#?}"
    );
    matching[0]
}

/// Only `lic` is blamed (never hdfc nor the shared schemas), and every finding
/// is about `object` itself or a part of it (`object.column`, …).
fn only_about(findings: &[Finding], object: &str) {
    for f in findings {
        assert_eq!(f.scope, "lic", "a finding outside the changed tenant:\n{findings:#?}");
        assert!(
            f.object == object || f.object.starts_with(&format!("{object}.")),
            "a finding about something other than {object}:\n{findings:#?}"
        );
    }
}

fn untouched(findings: &[Finding], scope: &str) {
    let blamed: Vec<&Finding> = findings.iter().filter(|f| f.scope == scope).collect();
    assert!(blamed.is_empty(), "{scope} was not touched but has findings:\n{findings:#?}");
}

/// A partition of lic_schema.user_events, `months` from now (as the server sees it).
fn user_events_partition(db: &TestDb, months: i32) -> String {
    db.scalar(&format!("SELECT 'user_events_p' || to_char(localtimestamp + interval '{months} months', 'YYYY_MM')"))
}

#[test]
fn a_fresh_database_is_clean_in_every_format() {
    let (db, ws) = provisioned();
    let text = db.provision().in_workspace(&ws).arg("verify").success();
    let summary = text.stdout.lines().last().unwrap_or_default();
    assert!(summary.contains("clean"), "summary line: {summary:?}\n{}", text.stdout);
    assert_eq!(text.stdout.lines().count(), 1, "a clean run prints only its summary:\n{}", text.stdout);

    let (out, findings) = verify_json(&db, &ws, &[], 0);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(out.json()["tenants"], serde_json::json!(["hdfc", "lic"]));
    assert!(out.json()["seconds"].is_number(), "{}", out.stdout);
    // --json is the same as --format json.
    let global = db.provision().in_workspace(&ws).args(["--json", "verify"]).success();
    assert!(findings_of(&global).is_empty(), "{}", global.stdout);

    let junit = parse_junit(&db.provision().in_workspace(&ws).args(["verify", "--format", "junit"]).success().stdout);
    assert_eq!(junit.failures, 0);
    assert_eq!(junit.tests, 10 * 2 + 4);
    assert_eq!(junit.cases.len(), junit.tests);
    assert!(junit.cases.iter().all(|c| !c.failed), "{:#?}", junit.cases);
    assert_eq!(junit.suites, ["hdfc", "lic", "shared"]);
}

#[test]
fn a_dropped_index_is_missing() {
    let (_db, findings) = drift("DROP INDEX lic_schema.idx_users_email");
    let f = the(&findings, "lic", "structure", "index", "lic_schema.idx_users_email");
    assert_eq!(f.problem, "missing");
    assert!(f.expected.as_deref().is_some_and(|e| e.contains("idx_users_email")), "{f:#?}");
    assert_eq!(f.found, None);
    only_about(&findings, "lic_schema.idx_users_email");
    untouched(&findings, "hdfc");
}

#[test]
fn a_changed_column_type_shows_both_types() {
    let (_db, findings) = drift("ALTER TABLE lic_schema.users ALTER COLUMN gender TYPE text");
    let f = the(&findings, "lic", "structure", "column", "lic_schema.users.gender");
    assert_eq!(f.problem, "changed");
    let expected = f.expected.as_deref().unwrap_or_default();
    let found = f.found.as_deref().unwrap_or_default();
    assert!(expected.starts_with("character varying(20)"), "{f:#?}");
    assert!(found.starts_with("text"), "{f:#?}");
    only_about(&findings, "lic_schema.users.gender");
    untouched(&findings, "hdfc");
}

#[test]
fn a_dropped_not_null_is_a_changed_column() {
    let (_db, findings) = drift("ALTER TABLE lic_schema.agents ALTER COLUMN agent_code DROP NOT NULL");
    let f = the(&findings, "lic", "structure", "column", "lic_schema.agents.agent_code");
    assert_eq!(f.problem, "changed");
    let expected = f.expected.as_deref().unwrap_or_default();
    let found = f.found.as_deref().unwrap_or_default();
    assert!(expected.contains("NOT NULL"), "{f:#?}");
    assert!(!found.contains("NOT NULL"), "{f:#?}");
    only_about(&findings, "lic_schema.agents.agent_code");
    untouched(&findings, "hdfc");
}

#[test]
fn a_stray_table_is_extra() {
    let (_db, findings) = drift("CREATE TABLE lic_schema.stray (id int)");
    let f = the(&findings, "lic", "structure", "table", "lic_schema.stray");
    assert_eq!(f.problem, "extra");
    assert_eq!(f.expected, None);
    assert!(f.found.is_some(), "{f:#?}");
    // Its column and its missing RLS may be reported too, but nothing else.
    only_about(&findings, "lic_schema.stray");
    untouched(&findings, "hdfc");
}

#[test]
fn a_partition_without_forced_rls_is_named() {
    let (db, ws) = provisioned();
    let partition = user_events_partition(&db, 0);
    db.execute(&format!("ALTER TABLE lic_schema.{partition} NO FORCE ROW LEVEL SECURITY"));
    let (_, findings) = verify_json(&db, &ws, &[], 1);
    let object = format!("lic_schema.{partition}");
    let f = the(&findings, "lic", "rls", "table", &object);
    assert!(f.problem.contains("row level security"), "{f:#?}");
    only_about(&findings, &object);
    untouched(&findings, "hdfc");
}

#[test]
fn a_dropped_policy_is_missing() {
    let (_db, findings) = drift("DROP POLICY tenant_rows ON lic_schema.agents");
    let f = the(&findings, "lic", "structure", "policy", "lic_schema.agents.tenant_rows");
    assert_eq!(f.problem, "missing");
    assert!(f.expected.is_some(), "{f:#?}");
    only_about(&findings, "lic_schema.agents.tenant_rows");
    untouched(&findings, "hdfc");
}

#[test]
fn an_edited_function_body_is_changed() {
    // The real definition, same signature and settings, one literal changed.
    let (db, findings) = drift(
        "DO $$
         DECLARE d text := pg_get_functiondef('lic_schema.monitor_database_health()'::regprocedure);
         BEGIN
             IF position('Consider archiving old data' IN d) = 0 THEN RAISE 'the literal to edit is gone'; END IF;
             EXECUTE replace(d, 'Consider archiving old data', 'Consider deleting old data');
         END $$",
    );
    assert_eq!(
        db.scalar("SELECT (prosrc LIKE '%Consider deleting old data%')::text FROM pg_proc WHERE oid = 'lic_schema.monitor_database_health()'::regprocedure"),
        "true"
    );
    let f = the(&findings, "lic", "structure", "function", "lic_schema.monitor_database_health()");
    assert_eq!(f.problem, "changed");
    assert!(f.expected.is_some() && f.found.is_some() && f.expected != f.found, "{f:#?}");
    only_about(&findings, "lic_schema.monitor_database_health()");
    untouched(&findings, "hdfc");
}

#[test]
fn a_dropped_future_partition_is_missing_coverage() {
    let (db, ws) = provisioned();
    let partition = user_events_partition(&db, 1);
    db.execute(&format!("DROP TABLE lic_schema.{partition}"));
    let (_, findings) = verify_json(&db, &ws, &[], 1);
    let object = format!("lic_schema.{partition}");
    let f = the(&findings, "lic", "partitions", "partition", &object);
    assert!(f.problem.starts_with("missing"), "{f:#?}");
    only_about(&findings, &object);
    untouched(&findings, "hdfc");
}

#[test]
fn another_tenants_grant_is_a_privileges_finding() {
    let (_db, findings) =
        drift("GRANT USAGE ON SCHEMA lic_schema TO hdfc_app; GRANT SELECT ON lic_schema.users TO hdfc_app");
    let f = the(&findings, "hdfc", "privileges", "table", "lic_schema.users");
    assert!(f.problem.contains("hdfc_app"), "{f:#?}");
    let f = the(&findings, "hdfc", "privileges", "schema", "lic_schema");
    assert!(f.problem.contains("hdfc_app"), "{f:#?}");
    for f in &findings {
        match f.scope.as_str() {
            "hdfc" => assert_eq!(f.check, "privileges", "{findings:#?}"),
            // The changed ACLs, on exactly the two objects granted on.
            "lic" => {
                assert_eq!((f.check.as_str(), f.problem.as_str()), ("structure", "changed"), "{findings:#?}");
                assert!(
                    [("schema", "lic_schema"), ("table", "lic_schema.users")]
                        .contains(&(f.kind.as_str(), f.object.as_str())),
                    "an ACL finding naming the wrong object:\n{findings:#?}"
                );
                assert!(f.found.as_deref().is_some_and(|d| d.contains("hdfc_app")), "{f:#?}");
            }
            _ => panic!("a finding outside lic and hdfc:\n{findings:#?}"),
        }
    }
}

#[test]
fn an_invalid_index_is_an_indexes_finding() {
    let (db, ws) = provisioned();
    // Autocommit (CONCURRENTLY cannot run in a transaction); it fails on the
    // duplicate system roles and leaves the index behind, INVALID.
    let created = db.with(async |c| {
        c.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY idx_dup ON lic_schema.roles (is_system_role)").await
    });
    assert!(created.is_err(), "the index was meant to fail on duplicates");
    assert_eq!(
        db.scalar("SELECT (NOT indisvalid)::text FROM pg_index WHERE indexrelid = 'lic_schema.idx_dup'::regclass"),
        "true"
    );
    let (_, findings) = verify_json(&db, &ws, &[], 1);
    let f = the(&findings, "lic", "indexes", "index", "lic_schema.idx_dup");
    assert!(f.problem.contains("INVALID"), "{f:#?}");
    only_about(&findings, "lic_schema.idx_dup");
    untouched(&findings, "hdfc");
}

// The checks the list does not reach. (`roles` is left out: tenant
// roles are cluster-wide, so changing one would disturb the parallel tests.)

#[test]
fn a_dropped_audit_trigger_is_an_audit_finding() {
    let (_db, findings) = drift("DROP TRIGGER audit_row_change ON lic_schema.agents");
    let f = the(&findings, "lic", "audit", "table", "lic_schema.agents");
    assert!(f.problem.contains("audit_row_change"), "{f:#?}");
    let f = the(&findings, "lic", "structure", "trigger", "lic_schema.agents.audit_row_change");
    assert_eq!(f.problem, "missing");
    only_about(&findings, "lic_schema.agents");
    untouched(&findings, "hdfc");
}

#[test]
fn a_not_valid_constraint_is_a_constraints_finding() {
    let (_db, findings) =
        drift("ALTER TABLE lic_schema.agents ADD CONSTRAINT stray_check CHECK (agent_code <> '') NOT VALID");
    let f = the(&findings, "lic", "constraints", "constraint", "lic_schema.agents.stray_check");
    assert!(f.problem.contains("NOT VALID"), "{f:#?}");
    let f = the(&findings, "lic", "structure", "constraint", "lic_schema.agents.stray_check");
    assert_eq!(f.problem, "extra");
    only_about(&findings, "lic_schema.agents.stray_check");
    untouched(&findings, "hdfc");
}

#[test]
fn an_unpinned_search_path_is_a_functions_finding() {
    let (_db, findings) = drift("ALTER FUNCTION lic_schema.monitor_database_health() RESET search_path");
    let f = the(&findings, "lic", "functions", "function", "lic_schema.monitor_database_health()");
    assert!(f.problem.contains("search_path"), "{f:#?}");
    let f = the(&findings, "lic", "structure", "function", "lic_schema.monitor_database_health()");
    assert_eq!(f.problem, "changed");
    only_about(&findings, "lic_schema.monitor_database_health()");
    untouched(&findings, "hdfc");
}

#[test]
fn an_edited_history_checksum_is_a_checksums_finding() {
    let (_db, findings) = drift("UPDATE lic_schema.refinery_schema_history SET checksum = '12345' WHERE version = 3");
    let f = the(&findings, "lic", "checksums", "applied version", "V3");
    assert_eq!(f.problem, "changed");
    assert_eq!(f.found.as_deref(), Some("12345"));
    assert!(f.expected.is_some(), "{f:#?}");
    only_about(&findings, "V3");
    untouched(&findings, "hdfc");
}

#[test]
fn tenant_flag_limits_the_tenants_checked() {
    let (db, ws) = provisioned();
    db.execute("DROP INDEX hdfc_schema.idx_users_email");
    let (out, findings) = verify_json(&db, &ws, &["--tenant", "lic"], 0);
    assert_eq!(out.json()["tenants"], serde_json::json!(["lic"]));
    assert!(findings.is_empty(), "hdfc's drift leaked into a lic-only run:\n{findings:#?}");
    let junit = parse_junit(
        &db.provision().in_workspace(&ws).args(["verify", "--tenant", "lic", "--format", "junit"]).success().stdout,
    );
    assert_eq!(junit.suites, ["lic", "shared"]);
    assert_eq!(junit.tests, 10 + 4);
    // Both named: hdfc's drift is found.
    let (out, findings) = verify_json(&db, &ws, &["--tenant", "lic", "--tenant", "hdfc"], 1);
    assert_eq!(out.json()["tenants"].as_array().map(Vec::len), Some(2), "{}", out.stdout);
    the(&findings, "hdfc", "structure", "index", "hdfc_schema.idx_users_email");
    untouched(&findings, "lic");
}

#[test]
fn an_unknown_tenant_is_bad_input() {
    let (db, ws) = provisioned();
    let out = db.provision().in_workspace(&ws).args(["verify", "--tenant", "nosuch"]).status(2);
    assert!(out.stderr.contains("nosuch"), "{}", out.stderr);
    out.one_line_error();
}

#[test]
fn junit_has_one_failure_per_failing_check() {
    // Several drifts at once (attribution is the other tests' job): lic
    // structure and rls (a stray table), lic indexes (an INVALID index), hdfc
    // privileges (a grant on lic), lic partitions (a dropped future partition).
    let (db, ws) = provisioned();
    let partition = user_events_partition(&db, 1);
    db.execute(&format!(
        "CREATE TABLE lic_schema.stray (id int);
         GRANT USAGE ON SCHEMA lic_schema TO hdfc_app; GRANT SELECT ON lic_schema.users TO hdfc_app;
         DROP TABLE lic_schema.{partition};"
    ));
    let _ = db.with(async |c| {
        c.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY idx_dup ON lic_schema.roles (is_system_role)").await
    });
    let (_, findings) = verify_json(&db, &ws, &[], 1);
    let failing: BTreeSet<(String, String)> = findings.iter().map(|f| (f.scope.clone(), f.check.clone())).collect();
    for pair in
        [("lic", "structure"), ("lic", "rls"), ("lic", "indexes"), ("lic", "partitions"), ("hdfc", "privileges")]
    {
        assert!(failing.contains(&(pair.0.to_owned(), pair.1.to_owned())), "{pair:?} missing from {failing:?}");
    }

    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "junit"]).status(1);
    let junit = parse_junit(&out.stdout);
    assert_eq!(junit.failures, failing.len(), "{}", out.stdout);
    assert_eq!(junit.tests, 10 * 2 + 4);
    assert_eq!(junit.cases.len(), junit.tests);
    assert_eq!(junit.suites, ["hdfc", "lic", "shared"]);
    let failed: BTreeSet<(String, String)> = junit
        .cases
        .iter()
        .filter(|c| c.failed)
        .map(|c| (c.classname.trim_start_matches("provision.verify.").to_owned(), c.name.clone()))
        .collect();
    assert_eq!(failed, failing, "failing testcases vs JSON (scope, check) pairs:\n{}", out.stdout);
    for case in &junit.cases {
        assert!(case.classname.starts_with("provision.verify."), "{case:?}");
        assert!(!case.failed || !case.failure_text.trim().is_empty(), "an empty <failure>: {case:?}");
    }
}

/// What a JUnit document says.
#[derive(Debug, Default)]
struct Junit {
    tests: usize,
    failures: usize,
    suites: Vec<String>,
    cases: Vec<Case>,
}

#[derive(Debug, Default)]
struct Case {
    classname: String,
    name: String,
    failed: bool,
    failure_text: String,
}

fn parse_junit(xml: &str) -> Junit {
    use quick_xml::events::{BytesStart, Event};
    use quick_xml::Reader;

    fn attr(e: &BytesStart, key: &str) -> String {
        e.attributes()
            .map(|a| a.expect("a well-formed attribute"))
            .find(|a| a.key.as_ref() == key.as_bytes())
            .map(|a| a.unescape_value().expect("an attribute value").into_owned())
            .unwrap_or_else(|| panic!("<{}> lacks {key}", String::from_utf8_lossy(e.name().as_ref())))
    }

    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut junit = Junit::default();
    let mut roots = 0;
    let mut case: Option<Case> = None;
    let mut in_failure = false;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not XML ({e}):\n{xml}")) {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuites" => {
                roots += 1;
                junit.tests = attr(&e, "tests").parse().unwrap();
                junit.failures = attr(&e, "failures").parse().unwrap();
            }
            Event::Start(e) if e.name().as_ref() == b"testsuite" => junit.suites.push(attr(&e, "name")),
            Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                junit.cases.push(Case { classname: attr(&e, "classname"), name: attr(&e, "name"), ..Case::default() })
            }
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                case = Some(Case { classname: attr(&e, "classname"), name: attr(&e, "name"), ..Case::default() })
            }
            Event::Start(e) if e.name().as_ref() == b"failure" => {
                case.as_mut().expect("<failure> outside a <testcase>").failed = true;
                in_failure = true;
            }
            Event::Empty(e) if e.name().as_ref() == b"failure" => {
                case.as_mut().expect("<failure> outside a <testcase>").failed = true;
            }
            Event::Text(t) if in_failure => {
                let text = t.decode().expect("failure text").into_owned();
                case.as_mut().expect("text outside a <testcase>").failure_text.push_str(&text);
            }
            Event::End(e) if e.name().as_ref() == b"failure" => in_failure = false,
            Event::End(e) if e.name().as_ref() == b"testcase" => junit.cases.push(case.take().unwrap()),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(roots, 1, "one <testsuites>:\n{xml}");
    junit
}

/// The shared schemas (here `portal`) are checked against the shared
/// migrations, whether the reference's image is built in a scratch database
/// (cold cache) or read from the local cache (warm): both name the index.
#[test]
fn a_dropped_shared_index_is_found_with_a_cold_and_a_warm_cache() {
    let (db, ws) = provisioned();
    db.execute("DROP INDEX portal.idx_import_jobs_status");
    let cache = ws.path().join("cache");
    for run in ["cold", "warm"] {
        let out = db
            .provision()
            .in_workspace(&ws)
            .env("PROVISION_CACHE_DIR", &cache)
            .args(["verify", "--format", "json"])
            .status(1);
        let findings = findings_of(&out);
        let found = the(&findings, "shared", "structure", "index", "portal.idx_import_jobs_status");
        assert_eq!(found.problem, "missing", "{run} cache");
        assert!(findings.iter().all(|f| f.scope == "shared"), "{run} cache: {findings:#?}");
        let cached = std::fs::read_dir(&cache).unwrap().filter_map(Result::ok).count();
        assert_eq!(cached, 1, "{run} cache: one image file");
    }
}
