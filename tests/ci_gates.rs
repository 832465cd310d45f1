//! The exit codes and documents CI gates and bulk repair rely on:
//! `up --dry-run --check` exits 1 exactly when `up` would change something;
//! `tenant upgrade --dry-run --json` carries the SQL of each pending version;
//! `tenant repair` alone lists what it would re-stamp and changes nothing,
//! `--all --accept-checksums` re-stamps every edited tenant; `reset` of a
//! sandbox holding tenants asks on a terminal and needs `--yes` when nobody
//! can be asked.

mod support;

use support::{Run, TestDb, Workspace};

const TWO: &str = "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n";

fn checksums(db: &TestDb, code: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT version || ':' || checksum FROM {code}_schema.refinery_schema_history ORDER BY version"
    ))
}

#[test]
fn up_dry_run_check_exits_1_only_when_up_would_change_something() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO);
    let out = db.provision().in_workspace(&ws).args(["up", "--dry-run", "--check"]).status(1).one_line_error();
    out.stderr_has("shared version").stderr_has("and 2 tenants (hdfc, lic) would change");
    assert_eq!(db.scalar("SELECT (to_regclass('shared.tenants') IS NULL)::text"), "true", "a dry run changed nothing");
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision().in_workspace(&ws).args(["up", "--dry-run", "--check"]).success();
    // One more tenant declared: up would create it.
    ws.write_config(&format!("{TWO}[tenants.icici]\nname = \"ICICI\"\n"));
    let out = db.provision().in_workspace(&ws).args(["up", "--dry-run", "--check"]).status(1);
    out.stderr_has("up --dry-run --check: 1 tenant (icici) would change\n");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants"), "2", "--check changed nothing");
    db.provision().in_workspace(&ws).args(["up", "--check"]).status(2).stderr_has("--dry-run");
}

#[test]
fn tenant_upgrade_dry_run_json_carries_each_pending_versions_sql() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO);
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__reporting_flag.sql.tera"),
        "COMMENT ON SCHEMA {{ schema }} IS 'reporting for {{ code }}';\n",
    )
    .unwrap();
    std::fs::write(
        templates.join("agent_mitra/tenant/V10__reporting_table.sql.tera"),
        "CREATE TABLE {{ schema }}.reporting_flags (id int PRIMARY KEY);\n",
    )
    .unwrap();
    let dry =
        db.provision().in_workspace(&ws).args(["--json", "tenant", "upgrade", "lic", "--dry-run"]).success().json();
    let lic = &dry["tenants"][0];
    assert_eq!(lic["tenant"], "lic", "{dry:#}");
    let sql: Vec<(&str, &str)> = lic["pending_sql"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v["sql"].as_str().unwrap()))
        .collect();
    assert_eq!(sql.len(), 2, "{dry:#}");
    assert_eq!(sql[0].0, "V9__reporting_flag");
    assert!(sql[0].1.contains("COMMENT ON SCHEMA") && sql[0].1.contains("reporting for lic"), "rendered: {}", sql[0].1);
    assert!(sql[1].1.contains("lic_schema") && sql[1].1.contains("reporting_flags"), "rendered: {}", sql[1].1);
    assert_eq!(db.scalar("SELECT max(version)::text FROM lic_schema.refinery_schema_history"), "8", "nothing applied");
    assert_eq!(db.scalar("SELECT (to_regclass('lic_schema.reporting_flags') IS NULL)::text"), "true");
}

#[test]
fn tenant_repair_lists_without_changing_and_all_accept_checksums_restamps_every_edited_tenant() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO);
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    let file = templates.join("agent_mitra/tenant/V2__insurance_core.sql.tera");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\n-- reviewed 2026-12-03\n")).unwrap();
    let before = (checksums(&db, "lic"), checksums(&db, "hdfc"));

    let listed = db.provision().in_workspace(&ws).arg("tenant").arg("repair").success();
    assert!(
        listed.stdout.contains("lic") && listed.stdout.contains("would re-stamp V2__insurance_core"),
        "{}",
        listed.stdout
    );
    assert!(listed.stdout.contains("2 tenants would be re-stamped; nothing was changed"), "{}", listed.stdout);
    let document = db.provision().in_workspace(&ws).args(["--json", "tenant", "repair"]).success().json();
    let outcomes: Vec<(&str, &str)> = document["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tenant"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes, [("hdfc", "would_repair"), ("lic", "would_repair")], "{document:#}");
    assert_eq!((checksums(&db, "lic"), checksums(&db, "hdfc")), before, "listing changed nothing");

    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "repair", "--accept-checksums"])
        .status(2)
        .one_line_error()
        .stderr_has("name a tenant or pass --all");
    assert_eq!((checksums(&db, "lic"), checksums(&db, "hdfc")), before, "the refusal changed nothing");

    db.provision().in_workspace(&ws).args(["tenant", "repair", "--all", "--accept-checksums"]).success();
    for code in ["lic", "hdfc"] {
        let after = checksums(&db, code);
        let changed: Vec<&String> = after.iter().filter(|c| !before.0.contains(c) && !before.1.contains(c)).collect();
        assert_eq!(changed.len(), 1, "{code}: only V2 re-stamped: {after:?}");
        assert!(changed[0].starts_with("2:"), "{changed:?}");
    }
    db.provision().in_workspace(&ws).args(["tenant", "repair"]).success().stdout_has("nothing to repair");
    db.provision().in_workspace(&ws).args(["up", "--dry-run", "--check"]).success();
}

#[test]
fn reset_of_a_sandbox_holding_tenants_needs_yes_off_a_terminal() {
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    Run::new().in_workspace(&ws).arg("up").success();
    let url = Run::new().in_workspace(&ws).args(["sandbox", "url"]).success().stdout;
    psql(&url, "COMMENT ON SCHEMA lic_schema IS 'kept'");
    let marker = "SELECT coalesce(obj_description('lic_schema'::regnamespace), '')";
    let refused = Run::new().in_workspace(&ws).arg("reset").stdin("").status(2);
    refused.stderr_has("it holds 1 tenant (lic); pass --yes");
    assert_eq!(psql(&url, "SELECT string_agg(tenant_code, ',') FROM shared.tenants"), "lic");
    assert_eq!(psql(&url, marker), "kept", "refused: the database is untouched");
    Run::new().in_workspace(&ws).args(["reset", "--yes"]).success().stdout_has("dropped and created database");
    assert_eq!(psql(&url, "SELECT string_agg(tenant_code, ',') FROM shared.tenants"), "lic", "provisioned again");
    assert_eq!(psql(&url, marker), "", "the old database is gone");
    Run::new().in_workspace(&ws).args(["sandbox", "stop"]).success();
}

/// On a terminal (a pseudo-terminal from util-linux `script`), `reset`
/// asks: anything but "yes" changes nothing (exit 2), "yes" resets.
#[test]
fn reset_of_a_sandbox_holding_tenants_asks_on_a_terminal() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    Run::new().in_workspace(&ws).arg("up").success();
    let url = Run::new().in_workspace(&ws).args(["sandbox", "url"]).success().stdout;
    psql(&url, "COMMENT ON SCHEMA lic_schema IS 'kept'");
    let marker = "SELECT coalesce(obj_description('lic_schema'::regnamespace), '')";
    let on_terminal = |answer: &str| {
        let mut command = std::process::Command::new("script");
        command.args(["-qec", &format!("{} reset", env!("CARGO_BIN_EXE_provision")), "/dev/null"]);
        command.current_dir(ws.path()).env("NO_COLOR", "1");
        for var in support::CONNECTION_VARS {
            command.env_remove(var);
        }
        let mut child =
            command.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(format!("{answer}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, said) = on_terminal("no");
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("which holds 1 tenant (lic). Type yes to go on:"), "{said}");
    assert_eq!(psql(&url, marker), "kept", "not confirmed: the database is untouched");
    let (code, said) = on_terminal("yes");
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(psql(&url, marker), "", "confirmed: dropped and provisioned again");
    assert_eq!(psql(&url, "SELECT string_agg(tenant_code, ',') FROM shared.tenants"), "lic");
    Run::new().in_workspace(&ws).args(["sandbox", "stop"]).success();
}

/// One statement on the sandbox through psql; its output, trimmed.
fn psql(url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql").args(["-X", "-At", "-d", url.trim(), "-c", sql]).output().unwrap();
    assert!(out.status.success(), "{sql}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
