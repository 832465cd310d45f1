//! Crash safety, point by point (issue 11, items 1–4).
//!
//! For every named failpoint (`provision::failpoint::ALL`) a scenario runs
//! the real binary with `PROVISION_FAILPOINT` set, so it aborts exactly
//! there, as `kill -9` would; then it runs again and compares the database
//! with one where the same command ran uninterrupted on a fresh database:
//! objects, triggers and their enabled state, RLS flags, policies, owners and
//! ACLs, memberships, rows per table (one administrator, the same audit
//! rows), registry rows, no advisory lock left, no INVALID index
//! (tests/sql/catalog_snapshot.sql + tests/sql/crash_snapshot.sql).
//! A point without a scenario fails the suite. Besides: a server crash
//! (immediate shutdown of a cluster of the test's own) during `up --jobs 2`,
//! and a failed `tenant add` that must keep a removed tenant's audit rows.

mod support;

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;

use provision::failpoint;
use support::{TestDb, Workspace};
use tokio_postgres::Client;

/// The state a scenario starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Setup {
    /// An empty database; tenants.toml declares hdfc only.
    OneDeclared,
    /// An empty database; tenants.toml declares lic, hdfc and icici.
    ThreeDeclared,
    /// tenants.toml declares hdfc and lic; a `tenant add lic` died after its
    /// first transaction (lic registered, incomplete, no administrator).
    Interrupted,
    /// lic, hdfc, icici provisioned; each tenant's newest partitions dropped,
    /// so a rollover has work in every tenant.
    Provisioned,
    /// lic, hdfc, icici provisioned from a copy of the blueprint, which then
    /// gets a V9 (an enum value and a new audited table) and a V10 (two
    /// concurrent indexes, no transaction).
    Upgradable,
    /// Tenant acme of the ledger test pack (tests/support/ledger.rs), with
    /// rows of every fate under its retention rules on the server's clock.
    Expiring,
    /// Tenant kc of the vault test pack (tests/support/keys.rs), its
    /// encrypted values under key A, key files in the workspace.
    Encrypted,
    /// lic provisioned with a retention of 3 months and archive; its DEFAULT
    /// partitions hold rows from before the window: some retention keeps
    /// (their months get partitions), some it is past (archived).
    DefaultRows,
}

/// One crash: the point, where from, the command it interrupts and the
/// command that must repair it. `{ws}` stands for the workspace directory.
struct Scenario {
    point: &'static str,
    setup: Setup,
    command: &'static [&'static str],
    rerun: &'static [&'static str],
}

const ADD: &[&str] = &["tenant", "add", "hdfc", "--no-verify"];
const UP: &[&str] = &["up", "--jobs", "2", "--no-verify"];
const UPGRADE: &[&str] = &["tenant", "upgrade", "--all", "--jobs", "2"];
const ROLLOVER: &[&str] = &["partitions", "rollover"];
const ROTATE: &[&str] =
    &["keys", "rotate", "--tenant", "kc", "--from-key-file", "a.key", "--to-key-file", "b.key", "--batch", "3"];

const SCENARIOS: &[Scenario] = &[
    Scenario { point: "tenant_add.after_shared", setup: Setup::OneDeclared, command: ADD, rerun: ADD },
    Scenario { point: "tenant_add.after_completion", setup: Setup::Interrupted, command: ADD, rerun: ADD },
    Scenario { point: "create.after_first_transaction", setup: Setup::OneDeclared, command: ADD, rerun: ADD },
    Scenario { point: "create.after_first_transaction@2", setup: Setup::ThreeDeclared, command: UP, rerun: UP },
    Scenario { point: "upgrade.after_segment", setup: Setup::OneDeclared, command: ADD, rerun: UP },
    Scenario {
        point: "tenant_add.before_verify",
        setup: Setup::OneDeclared,
        command: &["tenant", "add", "hdfc"],
        rerun: UP,
    },
    Scenario { point: "upgrade.after_enum_value", setup: Setup::Upgradable, command: UPGRADE, rerun: UPGRADE },
    Scenario { point: "upgrade.after_segment@2", setup: Setup::Upgradable, command: UPGRADE, rerun: UPGRADE },
    Scenario { point: "upgrade.after_outside_statement", setup: Setup::Upgradable, command: UPGRADE, rerun: UPGRADE },
    Scenario { point: "upgrade.after_outside_statement@2", setup: Setup::Upgradable, command: UPGRADE, rerun: UP },
    Scenario { point: "up.after_shared", setup: Setup::ThreeDeclared, command: UP, rerun: UP },
    Scenario { point: "up.after_tenant", setup: Setup::ThreeDeclared, command: UP, rerun: UP },
    Scenario { point: "up.before_verify", setup: Setup::ThreeDeclared, command: &["up", "--jobs", "2"], rerun: UP },
    Scenario { point: "tenant_upgrade.after_shared", setup: Setup::Upgradable, command: UPGRADE, rerun: UPGRADE },
    Scenario { point: "tenant_upgrade.after_tenant", setup: Setup::Upgradable, command: UPGRADE, rerun: UPGRADE },
    Scenario { point: "rollover.after_transaction", setup: Setup::Provisioned, command: ROLLOVER, rerun: ROLLOVER },
    Scenario { point: "rollover.after_transaction@3", setup: Setup::Provisioned, command: ROLLOVER, rerun: ROLLOVER },
    Scenario { point: "rollover.after_tenant", setup: Setup::Provisioned, command: ROLLOVER, rerun: ROLLOVER },
    Scenario { point: "rollover.after_transaction@2", setup: Setup::DefaultRows, command: ROLLOVER, rerun: ROLLOVER },
    Scenario {
        point: "tenant_remove.after_backup",
        setup: Setup::Provisioned,
        command: &["tenant", "remove", "hdfc", "--yes", "--backup-out", "{ws}/crashed.sql"],
        rerun: &["tenant", "remove", "hdfc", "--yes", "--backup-out", "{ws}/rerun.sql"],
    },
    Scenario {
        point: "tenant_backup.before_record",
        setup: Setup::Provisioned,
        command: &["tenant", "backup", "hdfc", "--out", "{ws}/crashed.sql"],
        rerun: &["tenant", "backup", "hdfc", "--out", "{ws}/rerun.sql"],
    },
    Scenario { point: "keys.after_batch@2", setup: Setup::Encrypted, command: ROTATE, rerun: ROTATE },
    // The 6th batch is the 2nd of sessions' 7, after every other rule's one.
    Scenario { point: "retention.after_batch@6", setup: Setup::Expiring, command: RETENTION, rerun: RETENTION },
];

const RETENTION: &[&str] = &["retention", "run", "--batch", "7"];

const THREE: &str =
    "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n[tenants.icici]\nname = \"ICICI\"\n";

const V9: &str = "ALTER TYPE {{ schema }}.agent_status_enum ADD VALUE IF NOT EXISTS 'on_leave' AFTER 'suspended';
CREATE TABLE {{ schema }}.agent_leaves (
    leave_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id UUID NOT NULL,
    status {{ schema }}.agent_status_enum NOT NULL DEFAULT 'on_leave',
    starts_on DATE NOT NULL
);
ALTER TABLE {{ schema }}.agent_leaves ENABLE ROW LEVEL SECURITY;
ALTER TABLE {{ schema }}.agent_leaves FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {{ schema }}.agent_leaves AS RESTRICTIVE FOR ALL
    USING (nullif(current_setting('app.tenant_id', true), '')::uuid = '{{ tenant_id }}'::uuid)
    WITH CHECK (nullif(current_setting('app.tenant_id', true), '')::uuid = '{{ tenant_id }}'::uuid);
CREATE POLICY tenant_rows ON {{ schema }}.agent_leaves FOR ALL USING (true) WITH CHECK (true);
";

const V10: &str = "-- provision: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_agent_leaves_agent ON {{ schema }}.agent_leaves (agent_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_agent_leaves_starts ON {{ schema }}.agent_leaves (starts_on);
";

/// Rows dated before the window into lic's DEFAULT partitions: 2 months ago
/// (kept by a 3-month retention) and a year ago (past it), in user_events
/// and in the audit log.
const OLD_DEFAULT_ROWS: &str = "
INSERT INTO lic_schema.user_events (event_type, \"timestamp\")
SELECT 'old', date_trunc('month', localtimestamp) - m * interval '1 month' + g * interval '1 day'
FROM unnest(ARRAY[2, 12]) AS m, generate_series(1, 3) AS g;
INSERT INTO audit.lic_audit_log (table_name, record_id, operation, \"timestamp\")
SELECT 't', g::text, 'INSERT', date_trunc('month', localtimestamp) - interval '12 months' + g * interval '1 day'
FROM generate_series(1, 2) AS g";

/// Drops the newest partition of every partitioned table of every tenant.
const DROP_NEWEST_PARTITIONS: &str = "DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT DISTINCT ON (i.inhparent) i.inhrelid::regclass::text AS part
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE c.relkind IN ('r', 'p') AND c.relname ~ '_p[0-9]{4}_[0-9]{2}' ORDER BY i.inhparent, c.relname DESC
  LOOP EXECUTE format('DROP TABLE %s', r.part); END LOOP; END $$";

/// A database and workspace in the scenario's starting state.
fn prepare(setup: Setup) -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = match setup {
        Setup::OneDeclared => Workspace::new("[tenants.hdfc]\nname = \"HDFC\"\n"),
        Setup::Interrupted => Workspace::new("[tenants.hdfc]\nname = \"HDFC\"\n[tenants.lic]\nname = \"LIC\"\n"),
        Setup::Encrypted => support::keys::vault_workspace("kc"),
        Setup::Expiring => support::ledger::ledger_workspace("acme", ""),
        Setup::DefaultRows => {
            Workspace::new("[tenants.lic]\nname = \"LIC\"\nretention = \"3 months\"\narchive = true\n")
        }
        _ => Workspace::new(THREE),
    };
    match setup {
        Setup::OneDeclared | Setup::ThreeDeclared => {}
        Setup::Interrupted => {
            let point = "create.after_first_transaction";
            let died = db
                .provision()
                .in_workspace(&ws)
                .env(failpoint::VARIABLE, point)
                .args(["tenant", "add", "lic"])
                .output();
            assert_eq!(died.code, -1, "tenant add lic did not die at {point}: {}", died.stderr);
        }
        Setup::Provisioned => {
            db.provision().in_workspace(&ws).args(UP).success();
            db.execute(DROP_NEWEST_PARTITIONS);
        }
        Setup::Expiring => {
            db.provision().in_workspace(&ws).args(UP).success();
            support::ledger::seed_ledger_expired(&db, "acme");
        }
        Setup::Encrypted => {
            db.provision().in_workspace(&ws).args(UP).success();
            support::keys::seed_vault(&db, "kc", support::keys::KEY_A, 8);
        }
        Setup::DefaultRows => {
            db.provision().in_workspace(&ws).args(UP).success();
            db.execute(OLD_DEFAULT_ROWS);
        }
        Setup::Upgradable => {
            let templates = ws.own_templates().join("agent_mitra/tenant");
            db.provision().in_workspace(&ws).args(UP).success();
            std::fs::write(templates.join("V9__agent_leaves.sql.tera"), V9).unwrap();
            std::fs::write(templates.join("V10__agent_leaves_indexes.sql.tera"), V10).unwrap();
        }
    }
    (db, ws)
}

fn args(ws: &Workspace, command: &[&str]) -> Vec<String> {
    let dir = ws.path().display().to_string();
    command.iter().map(|a| a.replace("{ws}", &dir)).collect()
}

/// Everything compared, in one sorted list.
async fn snapshot(client: &Client) -> Vec<String> {
    let mut facts = Vec::new();
    for sql in [include_str!("sql/catalog_snapshot.sql"), include_str!("sql/crash_snapshot.sql")] {
        let rows = client.query(sql, &[]).await.unwrap_or_else(|e| panic!("snapshot: {e:?}"));
        facts.extend(rows.iter().map(|r| r.get::<_, Option<String>>(0).unwrap_or_default()));
    }
    facts.sort();
    facts
}

fn db_snapshot(db: &TestDb) -> Vec<String> {
    db.with(async |c| snapshot(c).await)
}

/// The differences between two snapshots, for a readable failure.
fn diff(expected: &[String], found: &[String]) -> String {
    let missing: Vec<&String> = expected.iter().filter(|x| !found.contains(x)).collect();
    let extra: Vec<&String> = found.iter().filter(|x| !expected.contains(x)).collect();
    format!("missing after repair: {missing:#?}\nextra after repair: {extra:#?}")
}

/// The catalog after the uninterrupted command.
fn reference(setup: Setup, command: &[&str]) -> Vec<String> {
    let (db, ws) = prepare(setup);
    db.provision().in_workspace(&ws).args(args(&ws, command)).success();
    db_snapshot(&db)
}

/// Runs one scenario; `Err` says what differs.
fn run(scenario: &Scenario, expected: &[String]) -> Result<(), String> {
    let (db, ws) = prepare(scenario.setup);
    let crashed = db
        .provision()
        .in_workspace(&ws)
        .env(failpoint::VARIABLE, scenario.point)
        .args(args(&ws, scenario.command))
        .output();
    let name = scenario.point.split('@').next().unwrap();
    if crashed.code != -1 || !crashed.stderr.contains(&format!("failpoint {name}: aborting")) {
        return Err(format!("did not die at the point (exit {}):\n{}", crashed.code, crashed.stderr));
    }
    let rerun = db.provision().in_workspace(&ws).args(args(&ws, scenario.rerun)).output();
    if rerun.code != 0 {
        return Err(format!("the repair run failed (exit {}):\n{}{}", rerun.code, rerun.stdout, rerun.stderr));
    }
    let found = db_snapshot(&db);
    match found == expected {
        true => Ok(()),
        false => Err(diff(expected, &found)),
    }
}

/// Runs `jobs` in parallel on a few threads (the suite must stay fast).
fn in_parallel<T: Send, R: Send>(jobs: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<VecDeque<_>>());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| loop {
                let Some((index, job)) = queue.lock().unwrap().pop_front() else { break };
                let result = work(job);
                results.lock().unwrap().push((index, result));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Points of an operation across two servers: their crash scenarios are
/// tests/tenant_move_crash.rs's, which kills a move at each of them, and
/// tests/routing_pgbouncer.rs's for the PgBouncer cutover.
const ON_TWO_SERVERS: [&str; 2] = ["tenant_move.", "cutover."];

#[test]
fn every_failpoint_has_a_scenario() {
    let covered: Vec<&str> = SCENARIOS.iter().map(|s| s.point.split('@').next().unwrap()).collect();
    let missing: Vec<&&str> = failpoint::ALL
        .iter()
        .filter(|p| !covered.contains(p) && !ON_TWO_SERVERS.iter().any(|two| p.starts_with(two)))
        .collect();
    assert!(missing.is_empty(), "failpoints without a crash scenario: {missing:?}");
    let unknown: Vec<&&str> = covered.iter().filter(|p| !failpoint::ALL.contains(p)).collect();
    assert!(unknown.is_empty(), "scenarios for unknown failpoints: {unknown:?}");
    let mut used = Vec::new();
    points_in(&support::repo().join("src"), &mut used);
    used.sort();
    used.dedup();
    let mut listed: Vec<String> = failpoint::ALL.iter().map(|p| p.to_string()).collect();
    listed.sort();
    assert_eq!(used, listed, "failpoint::ALL must list exactly the points the code hits");
}

/// The names passed to `failpoint::hit` in the sources under `dir`.
fn points_in(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            points_in(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split("failpoint::hit(\"").skip(1) {
                found.push(piece.split('"').next().unwrap().to_owned());
            }
        }
    }
}

#[test]
fn a_crash_at_any_point_is_repaired_by_the_next_run() {
    let mut keys: Vec<(Setup, &[&str])> = SCENARIOS.iter().map(|s| (s.setup, s.command)).collect();
    keys.sort();
    keys.dedup();
    let references: BTreeMap<(Setup, &[&str]), Vec<String>> =
        keys.iter().copied().zip(in_parallel(keys.clone(), |(setup, command)| reference(setup, command))).collect();
    let failures: Vec<String> = in_parallel(SCENARIOS.iter().collect(), |scenario| {
        let expected = &references[&(scenario.setup, scenario.command)];
        run(scenario, expected)
            .err()
            .map(|e| format!("{} ({:?}, {:?}):\n{e}", scenario.point, scenario.setup, scenario.command))
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        SCENARIOS.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_failed_tenant_add_keeps_a_removed_tenants_audit_rows() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.zr]\nname = \"ZR\"\n");
    let templates = ws.own_templates().join("agent_mitra/tenant");
    db.provision().in_workspace(&ws).args(["tenant", "add", "zr", "--no-verify"]).success();
    db.execute(
        "SET app.tenant_id = ''; UPDATE zr_schema.users SET first_name = 'Audited' WHERE email = 'admin@zr.example'",
    );
    let rows = "SELECT count(*)::text FROM audit.zr_audit_log";
    let kept = db.scalar(rows);
    assert_ne!(kept, "0", "the admin's creation and update are audited");
    db.provision().in_workspace(&ws).args(["tenant", "remove", "zr", "--yes", "--no-backup"]).success();
    assert_eq!(db.scalar(rows), kept, "tenant remove keeps the audit log");
    // Broken after the first transaction of the creation (V1–V2).
    let v5 = templates.join("V5__reporting_and_helpers.sql.tera");
    let text = std::fs::read_to_string(&v5).unwrap();
    std::fs::write(&v5, format!("{text}\nSELECT 1 / 0;\n")).unwrap();
    db.provision().in_workspace(&ws).args(["tenant", "add", "zr", "--no-verify"]).status(1);
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'zr'"), "0");
    assert_eq!(db.scalar("SELECT (to_regnamespace('zr_schema') IS NULL)::text"), "true");
    assert_eq!(db.scalar(rows), kept, "the undo of a failed creation dropped kept audit rows");
}

#[test]
fn an_administrator_an_operator_deleted_is_not_recreated() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.hdfc]\nname = \"HDFC\"\n");
    db.provision().in_workspace(&ws).args(ADD).success();
    db.execute("DELETE FROM hdfc_schema.user_roles; DELETE FROM hdfc_schema.users WHERE email = 'admin@hdfc.example'");
    db.provision().in_workspace(&ws).args(UP).success();
    db.provision().in_workspace(&ws).args(["tenant", "upgrade", "--all"]).success();
    assert_eq!(db.scalar("SELECT count(*)::text FROM hdfc_schema.users"), "0");
}

#[test]
fn every_kind_of_gap_is_found_in_one_survey_and_completed_by_up() {
    let db = TestDb::new();
    // Codes of its own: roles are cluster-wide, and other tests use lic, hdfc, icici.
    let ws = Workspace::new(
        "[tenants.glic]\nname = \"G LIC\"\n[tenants.ghdfc]\nname = \"G HDFC\"\n[tenants.gicici]\nname = \"G ICICI\"\n",
    );
    db.provision().in_workspace(&ws).args(UP).success();
    let complete = db_snapshot(&db);
    let partition = db.scalar(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'glic_schema.user_events'::regclass AND c.relname <> 'user_events_default' LIMIT 1",
    );
    let log_partition = db.scalar(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'audit.ghdfc_audit_log'::regclass LIMIT 1",
    );
    db.execute(&format!(
        "DROP TRIGGER audit_row_change ON glic_schema.agents;
         DROP TABLE glic_schema.session_analytics_default;
         ALTER TABLE glic_schema.{partition} NO FORCE ROW LEVEL SECURITY;
         DROP POLICY tenant_isolation ON glic_schema.{partition};
         DROP TRIGGER audit_no_truncate ON audit.{log_partition};
         REVOKE provision_tenant_readers FROM gicici_ro;"
    ));
    let dry = db.provision().in_workspace(&ws).args(["--json", "up", "--dry-run"]).success().json();
    let planned: Vec<String> = dry["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["would_apply"].as_array().cloned().unwrap_or_default())
        .map(|step| step.as_str().unwrap_or_default().to_owned())
        .collect();
    for gap in [
        "audit trigger on glic_schema.agents".to_owned(),
        "DEFAULT partition of glic_schema.session_analytics".to_owned(),
        format!("row-level security on glic_schema.{partition}"),
        format!("TRUNCATE guard on audit.{log_partition}"),
        "role gicici_ro in provision_tenant_readers".to_owned(),
    ] {
        assert!(planned.contains(&format!("complete: {gap}")), "the survey missed {gap}: {planned:#?}");
    }
    let done = db.provision().in_workspace(&ws).args(["--json", "up", "--no-verify"]).success().json();
    assert_eq!(done["completed"], 3, "{done:#}");
    let found = db_snapshot(&db);
    assert!(found == complete, "{}", diff(&complete, &found));
    let again = db.provision().in_workspace(&ws).args(["--json", "up"]).success().json();
    assert_eq!((again["completed"].clone(), again["changed"].clone()), (0.into(), false.into()), "{again:#}");
}

/// A cluster of this test's own, so crashing it disturbs no other test.
struct OwnCluster {
    sandbox: provision::Sandbox,
    _dir: tempfile::TempDir,
}

impl OwnCluster {
    async fn start() -> OwnCluster {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new().prefix("provision-crash-").tempdir_in("/tmp").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let sandbox = provision::Sandbox::new(dir.path().join("pg"), None);
        sandbox.start().await.expect("start the crash test's cluster");
        OwnCluster { sandbox, _dir: dir }
    }

    fn url(&self, database: &str) -> String {
        support::with_database(&self.sandbox.url(), database)
    }

    async fn connect(&self, database: &str) -> Client {
        self.sandbox.admin_target().with_dbname(database).connect().await.expect("connect to the crash test's cluster")
    }

    /// `pg_ctl stop -m immediate`: SIGQUIT to the postmaster, no checkpoint.
    async fn crash(&self) {
        let pid_file = self.sandbox.data_dir().join("postmaster.pid");
        let pid = std::fs::read_to_string(&pid_file).unwrap().lines().next().unwrap().trim().to_owned();
        assert!(std::process::Command::new("kill").args(["-QUIT", &pid]).status().unwrap().success());
        while Path::new(&format!("/proc/{pid}")).exists() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.sandbox.destroy();
    }
}

/// How many tenants are registered (0 before the registry exists).
const REGISTERED: &str = "SELECT CASE WHEN to_regclass('shared.tenants') IS NULL THEN 0 ELSE \
    (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM shared.tenants', false, true, '')))[1]::text::int END";

#[test]
fn a_server_crash_during_up_is_repaired_by_the_next_up() {
    support::runtime().block_on(async {
        let cluster = OwnCluster::start().await;
        let ws = Workspace::new(THREE);
        let admin = cluster.connect("postgres").await;
        admin.batch_execute("CREATE DATABASE crashed").await.unwrap();
        admin.batch_execute("CREATE DATABASE calm").await.unwrap();
        let run = |db: &str| support::Run::new().env("DATABASE_URL", cluster.url(db)).in_workspace(&ws);
        let mut child = run("crashed").args(UP).spawn();
        let watcher = cluster.connect("crashed").await;
        // Mid-build: the first tenant is registered, the others are not done.
        while watcher.query_one(REGISTERED, &[]).await.unwrap().get::<_, i32>(0) < 1 {
            assert!(child.try_wait().unwrap().is_none(), "up ended before the crash");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        cluster.crash().await;
        let died = child.wait_with_output().unwrap();
        assert!(!died.status.success(), "up survived the server crash");
        cluster.sandbox.start().await.expect("restart after the crash");
        run("crashed").args(UP).success();
        run("calm").args(UP).success();
        let crashed = snapshot(&cluster.connect("crashed").await).await;
        let calm = snapshot(&cluster.connect("calm").await).await;
        assert!(crashed == calm, "{}", diff(&calm, &crashed));
    });
}
