//! Exit codes and messages a new user meets first (issue 11, items 13–15):
//! bad tenants.toml and templates exit 2 naming the culprit, lock timeouts
//! exit 3, a lost server names itself, a closed pipe is not a crash, and no
//! command but `up`, `db create` and `sandbox start` creates a sandbox.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Run, TestDb, Workspace, CONNECTION_VARS};

/// The binary with stdout connected to a pipe whose reader is already gone,
/// so the very first write meets EPIPE (`provision status | head -0`).
fn with_closed_stdout(db: &TestDb, ws: &Workspace, args: &[&str]) -> support::Outcome {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = Command::new(env!("CARGO_BIN_EXE_provision"));
    for var in CONNECTION_VARS {
        command.env_remove(var);
    }
    let out = command
        .env("NO_COLOR", "1")
        .env("DATABASE_URL", &db.url)
        .current_dir(ws.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    support::Outcome::from(out)
}

#[test]
fn a_closed_stdout_ends_quietly_and_the_work_is_done() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    let up = with_closed_stdout(&db, &ws, &["up"]);
    assert_eq!(up.code, 0, "{up:?}");
    assert_eq!(db.scalar("SELECT string_agg(tenant_code, ',' ORDER BY 1) FROM shared.tenants"), "hdfc,icici,lic");
    let catalog = db.catalog();
    for args in [&["status"][..], &["partitions", "list"], &["tenant", "list"], &["--json", "status"]] {
        let out = with_closed_stdout(&db, &ws, args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(!out.stderr.contains("panicked") && !out.stderr.contains("error"), "{args:?}: {}", out.stderr);
    }
    assert_eq!(db.catalog(), catalog);
}

#[test]
fn unknown_blueprint_exits_2_on_every_command_naming_tenant_and_blueprint() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n[tenants.zz]\nname = \"ZZ\"\nblueprint = \"nope\"\n");
    let before = db.catalog();
    for args in [
        &["up"][..],
        &["status"],
        &["verify"],
        &["tenant", "list"],
        &["tenant", "add", "lic"],
        &["tenant", "upgrade", "--all"],
        &["partitions", "rollover"],
        &["partitions", "list"],
        &["tenant", "render", "zz"],
    ] {
        // Which packs are available is the loader's business: only the start is exact.
        db.provision()
            .in_workspace(&ws)
            .args(args)
            .stderr_regex(r#"error: tenants\.toml: tenant zz: blueprint "nope" not found: [^\n]*\n"#)
            .status(2);
    }
    assert_eq!(db.catalog(), before, "a refused command changed the database");
}

#[test]
fn undefined_template_variable_exits_2_naming_template_and_variable() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    let templates = ws.own_templates();
    std::fs::write(templates.join("agent_mitra/tenant/V9__typo.sql.tera"), "CREATE TABLE {{ shcema }}.t (id int);\n")
        .unwrap();
    let before = db.catalog();
    for args in [&["up"][..], &["tenant", "upgrade", "lic"], &["tenant", "add", "lic2", "--name", "X"]] {
        db.provision()
            .in_workspace(&ws)
            .args(args)
            .status(2)
            .one_line_error()
            .stderr_has("V9__typo.sql.tera")
            .stderr_has("shcema");
    }
    assert_eq!(db.catalog(), before);
    assert_eq!(db.scalar("SELECT max(version)::text FROM lic_schema.refinery_schema_history"), "8");
}

#[test]
fn duplicate_tenant_id_duplicate_key_and_negative_premake_exit_2_at_parse_time() {
    let db = TestDb::new();
    let id = "6f1d2c3a-8b7e-4f5d-9a10-3c2b1e0fa7d4";
    let ws = Workspace::new(&format!(
        "[tenants.lic]\nname = \"LIC\"\nid = \"{id}\"\n[tenants.hdfc]\nname = \"HDFC\"\nid = \"{id}\"\n"
    ));
    let before = db.catalog();
    // Line numbers count the `templates = …` line the workspace writes first.
    let duplicate_id = format!(
        "error: tenants.toml:2:1: [tenants.lic] id: {id} is already the id of tenant hdfc; give each tenant its own id\n"
    );
    db.provision().in_workspace(&ws).arg("up").stderr(&duplicate_id).status(2);
    ws.write_config("[tenants.lic]\nname = \"A\"\nname = \"B\"\n");
    db.provision().in_workspace(&ws).arg("up").stderr("error: tenants.toml:4:1: name: duplicate key\n").status(2);
    ws.write_config("[tenants.lic]\nname = \"A\"\npremake = -1\n");
    let negative = "premake: invalid value: integer `-1`, expected a whole number from 0 up\n";
    db.provision().in_workspace(&ws).arg("up").stderr(&format!("error: tenants.toml:4:11: {negative}")).status(2);
    ws.write_config("[defaults]\npremake = -1\n[tenants.lic]\nname = \"A\"\n");
    db.provision().in_workspace(&ws).arg("status").stderr(&format!("error: tenants.toml:3:11: {negative}")).status(2);
    assert_eq!(db.catalog(), before);
}

#[test]
fn lock_timeout_in_tenant_upgrade_exits_3_and_changes_nothing() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    let templates = ws.own_templates();
    std::fs::write(templates.join("agent_mitra/tenant/V9__note.sql.tera"), "COMMENT ON SCHEMA {{ schema }} IS 'v9';\n")
        .unwrap();
    let before = db.catalog();
    db.with(async |holder| {
        support::begin_holding_tenant_lock(holder, "lic").await;
        db.provision()
            .in_workspace(&ws)
            .args(["--lock-timeout", "1", "tenant", "upgrade", "lic"])
            .stderr(
                "waiting for tenant lic: another provision process holds its lock\n\
                 warning: tenant lic: timed out waiting for the lock on tenant lic (another provision process is \
                 still working on it); retry later or raise --lock-timeout\n\
                 error: upgrade failed for tenants: lic\n",
            )
            .status(3);
        holder.batch_execute("ROLLBACK").await.unwrap();
    });
    assert_eq!(db.catalog(), before);
    assert_eq!(db.scalar("SELECT max(version)::text FROM lic_schema.refinery_schema_history"), "8");
}

/// The backend of the run `child` once it waits for an advisory lock
/// (bounded). `holder` is inside a transaction, whose view of
/// pg_stat_activity is a snapshot until cleared.
async fn waiting_backend(holder: &tokio_postgres::Client, db: &TestDb, child: &mut std::process::Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        holder.batch_execute("SELECT pg_stat_clear_snapshot()").await.unwrap();
        let row = holder
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' \
                 AND wait_event = 'advisory' LIMIT 1",
                &[&db.name],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            return row.get(0);
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it waited");
        assert!(Instant::now() < deadline, "the run never waited for the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_server_lost_mid_run_names_tenant_server_and_what_to_do() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    db.provision().in_workspace(&ws).arg("migrate").success();
    let before = db.catalog();
    db.with(async |holder| {
        support::begin_holding_tenant_lock(holder, "lic").await;
        let mut child = db.provision().in_workspace(&ws).args(["--lock-timeout", "60", "tenant", "add", "lic"]).spawn();
        let pid = waiting_backend(holder, &db, &mut child).await;
        // What the client sees of a crash: its session ends under it.
        holder.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
        let out = support::Outcome::from(child.wait_with_output().unwrap());
        assert_eq!(out.code, 1, "{out:?}");
        let error = out.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_default().to_owned();
        for needle in ["tenant lic", &format!("database \"{}\"", db.name), "was lost", "run the same command again"] {
            assert!(error.contains(needle), "lacks {needle:?}: {}", out.stderr);
        }
        holder.batch_execute("ROLLBACK").await.unwrap();
    });
    assert_eq!(db.catalog(), before);
}

/// Postmasters whose command line mentions `dir`.
fn postgres_under(dir: &std::path::Path) -> Vec<String> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("postgres") && c.contains(&needle))
        .collect()
}

#[test]
fn maintenance_commands_never_create_a_sandbox() {
    let ws = Workspace::shipped();
    // No tenants.toml here: the configuration comes from elsewhere (cron).
    let empty = Workspace { dir: tempfile::tempdir().unwrap() };
    let config = ws.config_path();
    for args in [
        &["partitions", "rollover", "--quiet"][..],
        &["status"],
        &["migrate"],
        &["verify"],
        &["tenant", "add", "lic"],
        &["tenant", "list"],
        &["tenant", "upgrade", "--all"],
        &["tenant", "remove", "lic", "--yes", "--no-backup"],
        &["partitions", "list"],
        &["seed", "--sample", "1"],
        &["db", "list"],
        &["reset"],
    ] {
        let run = Run::new().in_workspace(&empty).arg("--config").arg(&config).args(args);
        let out = run.status(3).one_line_error();
        assert!(out.stderr.contains(provision::NO_DATABASE), "{args:?}: {}", out.stderr);
        assert!(!empty.path().join(".provision").exists(), "{args:?} created a sandbox");
        assert!(postgres_under(empty.path()).is_empty(), "{args:?} started a server");
    }
    Run::new().in_workspace(&empty).args(["sandbox", "status"]).success().stdout_has("not created");
    assert!(!empty.path().join(".provision").exists());
}

/// Stops the server even when an assertion fails, so no test leaks a postmaster.
struct DestroyOnDrop(provision::Sandbox);

impl Drop for DestroyOnDrop {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

#[test]
fn a_real_server_crash_names_the_server_and_a_rerun_completes() {
    use provision::{Sandbox, SandboxStatus};
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let sandbox = Sandbox::in_dir(ws.path(), None);
    let _cleanup = DestroyOnDrop(sandbox.clone());
    // `sandbox start` may create it; every later run uses the existing one.
    Run::new().in_workspace(&ws).args(["sandbox", "start"]).success();
    Run::new().in_workspace(&ws).arg("migrate").success();
    let runtime = support::runtime();
    runtime.block_on(async {
        let holder = sandbox.target().connect().await.unwrap();
        support::begin_holding_tenant_lock(&holder, "lic").await;
        let mut child = Run::new().in_workspace(&ws).args(["--lock-timeout", "60", "tenant", "add", "lic"]).spawn();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            holder.batch_execute("SELECT pg_stat_clear_snapshot()").await.unwrap();
            let waiting =
                holder.query_opt("SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory'", &[]).await.unwrap();
            if waiting.is_some() {
                break;
            }
            assert!(child.try_wait().unwrap().is_none() && Instant::now() < deadline, "the run never waited");
            std::thread::sleep(Duration::from_millis(50));
        }
        let SandboxStatus::Running { pid, .. } = sandbox.status().unwrap() else { panic!("not running") };
        assert!(Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap().success());
        let out = support::Outcome::from(child.wait_with_output().unwrap());
        assert_eq!(out.code, 1, "{out:?}");
        let socket = sandbox.root().join("run").display().to_string();
        for needle in ["tenant lic", socket.as_str(), "was lost", "run the same command again"] {
            assert!(out.stderr.contains(needle), "lacks {needle:?}: {}", out.stderr);
        }
    });
    // The next run starts the crashed sandbox again and does the work.
    Run::new().in_workspace(&ws).args(["tenant", "add", "lic"]).success();
    let registered = runtime.block_on(async {
        let client = sandbox.target().connect().await.unwrap();
        client
            .query_one("SELECT string_agg(tenant_code, ',') FROM shared.tenants", &[])
            .await
            .unwrap()
            .get::<_, String>(0)
    });
    assert_eq!(registered, "lic");
}

/// The builder itself: a wrong expectation fails, naming what differs.
#[test]
fn the_runner_checks_exact_and_regex_output_and_shows_a_diff() {
    let ws = Workspace::new("[tenants.lic]\nname = \"A\"\nname = \"B\"\n");
    let expected = "error: tenants.toml:4:1: name: duplicate key\n";
    Run::new().in_workspace(&ws).arg("status").stderr(expected).stdout("").status(2);
    Run::new().in_workspace(&ws).arg("status").stderr_regex(r"error: .*duplicate key\n").status(2);
    let wrong = std::panic::catch_unwind(|| {
        Run::new().in_workspace(&ws).arg("status").stderr("error: tenants.toml:4:1: name: duplicate\n").status(2)
    });
    let message = *wrong.expect_err("a wrong stderr must fail").downcast::<String>().unwrap();
    assert!(message.contains("stderr differs"), "{message}");
    assert!(message.contains("-error: tenants.toml:4:1: name: duplicate⏎"), "{message}");
    assert!(message.contains("+error: tenants.toml:4:1: name: duplicate key⏎"), "{message}");
    let wrong_code = std::panic::catch_unwind(|| Run::new().in_workspace(&ws).arg("status").success());
    let message = *wrong_code.expect_err("exit 2 is no success").downcast::<String>().unwrap();
    assert!(message.contains("exit code 2 (expected 0)"), "{message}");
    assert_eq!(support::diff("a\nb\n", "a\nc\n"), " a⏎\n-b⏎\n+c⏎\n");
}
