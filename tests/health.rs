//! `provision health` against real PostgreSQL: healthy (exit 0) right after
//! `up`, and exit 1 with the JSON naming the problem for each planted one: a
//! tenant behind its blueprint, a tenant declared and not created, a drift,
//! a session waiting on a lock another holds, a partition due that is missing.

mod support;

use std::time::{Duration, Instant};

use support::{Outcome, TestDb, Workspace};

const TWO_TENANTS: &str = "[defaults]\nblueprint = \"claimflow\"\n\
                           [tenants.acme]\nname = \"Acme Claims\"\n[tenants.beta]\nname = \"Beta Claims\"\n";

/// Every check, in the order health runs them on a provisioned database.
const CHECKS: &[&str] = &[
    "reachable",
    "server",
    "lock capacity",
    "pgaudit",
    "shared versions",
    "tenant versions",
    "verify",
    "partitions",
    "lock waits",
    "catalog bloat",
];

fn provisioned() -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    (db, ws)
}

fn health(db: &TestDb, ws: &Workspace, args: &[&str], code: i32) -> Outcome {
    db.provision().in_workspace(ws).args(["--json", "health"]).args(args).status(code)
}

/// The check called `name` of a health report.
fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let checks = report["checks"].as_array().expect("a checks array");
    checks.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no check {name}: {report:#}"))
}

fn items(check: &serde_json::Value) -> Vec<String> {
    check["items"].as_array().map_or(Vec::new(), |a| a.iter().map(|i| i.as_str().unwrap().to_owned()).collect())
}

/// The checks whose status is `fail`.
fn failing(report: &serde_json::Value) -> Vec<String> {
    let checks = report["checks"].as_array().expect("a checks array");
    checks.iter().filter(|c| c["status"] == "fail").map(|c| c["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn healthy_right_after_up() {
    let (db, ws) = provisioned();
    let report = health(&db, &ws, &[], 0).json();
    assert_eq!(report["healthy"], true, "{report:#}");
    let names: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, CHECKS);
    assert!(failing(&report).is_empty(), "{report:#}");
    for c in report["checks"].as_array().unwrap() {
        assert!(c["status"] == "ok" || c["action"].is_string(), "a check that is not ok says what to do: {c:#}");
    }
    let capacity = check(&report, "lock capacity");
    assert_eq!(items(capacity).len(), 1, "names the largest tenant schema: {capacity:#}");
    // claimflow audits reads: without pgaudit preloaded that is a warning naming it, never a failure.
    let pgaudit = check(&report, "pgaudit");
    match db.scalar("SELECT (current_setting('shared_preload_libraries') LIKE '%pgaudit%')::text").as_str() {
        "true" => assert_eq!(pgaudit["status"], "ok", "{pgaudit:#}"),
        _ => assert_eq!((&pgaudit["status"], items(pgaudit)), (&"warn".into(), vec!["claimflow".to_owned()])),
    }
    let text = db.provision().in_workspace(&ws).arg("health").success();
    assert!(text.stdout.contains("healthy"), "{}", text.stdout);
}

#[test]
fn a_tenant_behind_its_blueprint_or_not_created_is_unhealthy() {
    let (db, ws) = provisioned();
    let templates = ws.own_templates();
    std::fs::write(
        templates.join("claimflow/tenant/V2__later.sql.tera"),
        "COMMENT ON SCHEMA {{ schema }} IS 'a later version';\n",
    )
    .unwrap();
    let config = std::fs::read_to_string(ws.config_path()).unwrap();
    std::fs::write(ws.config_path(), format!("{config}\n[tenants.gamma]\nname = \"Gamma\"\n")).unwrap();
    let report = health(&db, &ws, &[], 1).json();
    assert_eq!(report["healthy"], false);
    let versions = check(&report, "tenant versions");
    assert_eq!(versions["status"], "fail");
    assert_eq!(
        items(versions),
        ["acme: 1 pending (V2__later)", "beta: 1 pending (V2__later)", "gamma: declared in tenants.toml, not created"]
    );
    assert_eq!(versions["action"], "run `provision up`");
    // Nothing was applied: health only reads.
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants"), "2");
}

#[test]
fn a_drift_is_unhealthy_and_named() {
    let (db, ws) = provisioned();
    db.execute("DROP INDEX beta_schema.claims_cpt_codes_idx");
    let report = health(&db, &ws, &[], 1).json();
    assert_eq!(failing(&report), ["verify"]);
    assert_eq!(items(check(&report, "verify")), ["beta: index beta_schema.claims_cpt_codes_idx missing"]);
}

#[test]
fn a_missing_partition_due_within_premake_is_unhealthy() {
    let (db, ws) = provisioned();
    let next_month = db.scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'acme_schema.audit_logs'::regclass AND c.relname <> 'audit_logs_default' \
         ORDER BY c.relname DESC LIMIT 1",
    );
    db.execute(&format!("DROP TABLE acme_schema.{next_month}"));
    let report = health(&db, &ws, &[], 1).json();
    let partitions = check(&report, "partitions");
    assert_eq!(partitions["status"], "fail", "{report:#}");
    assert!(items(partitions).iter().any(|i| i.starts_with("acme: ") && i.contains("audit_logs")), "{partitions:#}");
}

#[test]
fn a_session_waiting_on_a_lock_another_holds_is_unhealthy() {
    let (db, ws) = provisioned();
    db.execute("CREATE TABLE public.held (x int)");
    let runtime = support::runtime();
    let target = provision::resolve(Some(&db.url), &|_| None).unwrap().expect("a target");
    let holder = runtime.block_on(target.connect()).expect("connect the holder");
    let holder_pid: i32 = runtime
        .block_on(async {
            holder.batch_execute("BEGIN; LOCK TABLE public.held IN ACCESS EXCLUSIVE MODE").await?;
            holder.query_one("SELECT pg_backend_pid()", &[]).await
        })
        .unwrap()
        .get(0);
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| db.with(async |c| c.query("SELECT * FROM public.held", &[]).await.map(|_| ())));
        wait_until_waiting(&db, "held");
        let report = health(&db, &ws, &["--lock-wait-threshold", "0"], 1).json();
        runtime.block_on(holder.batch_execute("COMMIT")).unwrap();
        waiter.join().unwrap().expect("the waiter's query ends once the lock is released");
        let waits = check(&report, "lock waits");
        assert_eq!(waits["status"], "fail", "{report:#}");
        let named = items(waits);
        assert_eq!(named.len(), 1, "{waits:#}");
        assert!(
            named[0].contains("relation held") && named[0].ends_with(&format!("blocked by pid {holder_pid}")),
            "{named:?}"
        );
        assert!(waits["action"].as_str().unwrap().contains("pg_terminate_backend"), "{waits:#}");
    });
    // With the default threshold (30 s) a fresh wait is no finding, and once released there is none.
    health(&db, &ws, &[], 0);
}

/// Polls pg_locks until a session waits on `table` (bounded; no fixed sleep).
fn wait_until_waiting(db: &TestDb, table: &str) {
    let started = Instant::now();
    let sql =
        format!("SELECT count(*)::text FROM pg_locks WHERE NOT granted AND relation = 'public.{table}'::regclass");
    while db.scalar(&sql) == "0" {
        assert!(started.elapsed() < Duration::from_secs(30), "no session started waiting on {table}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_negative_threshold_is_bad_input() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).args(["health", "--lock-wait-threshold=-1"]).status(2).one_line_error();
}

#[test]
fn an_unreachable_database_exits_3_with_one_line() {
    support::Run::new()
        .env("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
        .arg("health")
        .status(3)
        .one_line_error()
        .stderr_has("cannot connect");
}

#[test]
fn help_has_an_example() {
    let out = support::Run::new().args(["health", "--help"]).success();
    assert!(out.stdout.contains("Example:") && out.stdout.contains("--lock-wait-threshold"), "{}", out.stdout);
}

#[test]
fn a_check_that_cannot_run_fails_alone_and_the_others_still_report() {
    let (db, ws) = provisioned();
    // A registered tenant whose blueprint no longer exists: what needs the blueprint cannot run.
    db.execute("UPDATE shared.tenants SET blueprint = 'gone' WHERE tenant_code = 'beta'");
    let report = health(&db, &ws, &[], 1).json();
    let names: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, CHECKS, "every check still reports");
    let unable: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail" && c["summary"].as_str().unwrap().starts_with("could not check: "))
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(unable, ["verify", "partitions"], "{report:#}");
    let versions = check(&report, "tenant versions");
    assert!(items(versions).iter().any(|i| i.starts_with("beta: blueprint gone cannot be read")), "{versions:#}");
    assert_eq!(check(&report, "lock waits")["status"], "ok", "{report:#}");
}
