//! Output scripts can rely on: with `--json` stdout is exactly one JSON
//! document, errors included (`{"error": {"message", "exit_code", "kind"}}`,
//! stderr keeping its one human line); `verify --format junit` has `time`
//! attributes and `--output FILE`; `sandbox url` without a running sandbox
//! exits 3; summary lines say "1 tenant", not "1 tenants"; `--quiet` keeps
//! the data of listings; `--log-format json` makes diagnostics JSON lines.

mod support;

use serde_json::{json, Value};
use support::{Outcome, Run, TestDb, Workspace};

/// The whole of stdout parses as one JSON document (a second one after it
/// would make `serde_json::from_str` fail with "trailing characters").
fn one_document(out: &Outcome) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout))
}

/// The `error` object of the one document, checked for its exit code and kind.
fn error_document(out: &Outcome, exit_code: i32, kind: &str) -> String {
    let document = one_document(out);
    let error = document.as_object().and_then(|d| d.get("error")).unwrap_or_else(|| panic!("no error: {document}"));
    let keys: Vec<&String> = error.as_object().expect("error is an object").keys().collect();
    assert_eq!(keys, ["exit_code", "kind", "message"], "{document}");
    assert_eq!(document.as_object().unwrap().len(), 1, "only the error: {document}");
    assert_eq!(error["exit_code"], json!(exit_code), "{document}");
    assert_eq!(error["kind"], json!(kind), "{document}");
    let message = error["message"].as_str().expect("a message").to_owned();
    assert!(out.stderr.contains(&message), "stderr's line says the same:\n{}\n{message}", out.stderr);
    message
}

#[test]
fn a_bad_tenant_code_is_a_bad_input_document() {
    let db = TestDb::new();
    let ws = Workspace::new("");
    let out = db.provision().in_workspace(&ws).args(["--json", "tenant", "add", "Bad!"]).status(2).one_line_error();
    let message = error_document(&out, 2, "bad_input");
    assert!(message.contains("Bad!"), "{message}");
}

#[test]
fn a_connection_failure_is_an_unavailable_document_without_the_password() {
    let ws = Workspace::new("");
    let url = "postgresql://nobody:s3cr3t-pw@127.0.0.1:1/x";
    let out = Run::new().in_workspace(&ws).args(["--database-url", url, "--json", "status"]).status(3).one_line_error();
    let message = error_document(&out, 3, "unavailable");
    assert!(!out.stdout.contains("s3cr3t-pw") && !out.stderr.contains("s3cr3t-pw"), "{message}\n{}", out.stderr);
}

#[test]
fn a_usage_error_with_json_is_a_document_too() {
    let out = Run::new().args(["--json", "tenant", "frobnicate"]).status(2);
    let message = error_document(&out, 2, "bad_input");
    assert!(message.contains("frobnicate"), "{message}");
    let help = Run::new().args(["--json", "tenant", "--help"]).success();
    assert!(help.stdout.contains("Usage"), "help stays help:\n{}", help.stdout);
}

#[test]
fn verify_with_drift_prints_its_report_and_no_error_document() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    db.execute("DROP INDEX lic_schema.idx_users_email");
    let out = db.provision().in_workspace(&ws).args(["--json", "verify"]).status(1).one_line_error();
    let document = one_document(&out);
    assert!(document.get("error").is_none(), "the report is the document: {document}");
    assert_eq!(document["tenants"], json!(["lic"]));
    assert!(!document["findings"].as_array().unwrap().is_empty(), "{document}");

    let refused = db.provision().in_workspace(&ws).args(["--json", "verify", "--format", "junit"]).status(2);
    let message = error_document(&refused.one_line_error(), 2, "bad_input");
    assert!(message.contains("--format junit"), "{message}");
}

#[test]
fn verify_writes_junit_with_times_to_the_output_file() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    let file = ws.path().join("reports/verify.xml");
    std::fs::create_dir(ws.path().join("reports")).unwrap();
    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "junit", "--output"]).arg(&file).success();
    assert_eq!(out.stdout, "", "the report went to the file");
    let xml = std::fs::read_to_string(&file).unwrap();
    let times = |tag: &str| -> Vec<f64> {
        let pattern = regex::Regex::new(&format!(r#"<{tag} [^>]*time="([0-9.]+)""#)).unwrap();
        pattern.captures_iter(&xml).map(|c| c[1].parse().unwrap()).collect()
    };
    assert_eq!(times("testcase").len(), xml.matches("<testcase ").count(), "every testcase has a time:\n{xml}");
    assert_eq!(times("testsuite").len(), 2, "lic and shared:\n{xml}");
    let (total, cases) = (times("testsuites")[0], times("testcase").iter().sum::<f64>());
    assert!((total - cases).abs() < 0.01 * times("testcase").len() as f64, "{total} vs {cases}:\n{xml}");

    let missing = ws.path().join("nowhere/verify.xml");
    let bad = db.provision().in_workspace(&ws).args(["verify", "--format", "junit", "--output"]).arg(&missing);
    bad.status(2).one_line_error().stderr_has("nowhere");
}

#[test]
fn sandbox_url_without_a_running_sandbox_exits_3() {
    let ws = Workspace::new("");
    Run::new()
        .in_workspace(&ws)
        .args(["sandbox", "url"])
        .stdout("")
        .status(3)
        .one_line_error()
        .stderr_has("not running; start it with `provision sandbox start`");
    let out = Run::new().in_workspace(&ws).args(["--json", "sandbox", "url"]).status(3);
    error_document(&out, 3, "unavailable");
    assert!(!ws.path().join(".provision").exists(), "nothing was created");
}

#[test]
fn summary_lines_count_one_tenant_in_the_singular() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let up = db.provision().in_workspace(&ws).arg("up").success();
    assert!(up.stdout.contains("\n1 tenant: ") || up.stdout.starts_with("1 tenant: "), "{}", up.stdout);
    assert!(up.stdout.contains("verify: 1 tenant and the shared schemas clean ("), "{}", up.stdout);
    db.execute("DROP INDEX lic_schema.idx_users_email");
    let out = db.provision().in_workspace(&ws).arg("verify").status(1);
    out.stderr_has("verify: 1 problem in lic (");
    let rollover = db.provision().in_workspace(&ws).args(["partitions", "rollover"]).success();
    assert!(rollover.stdout.contains("rollover: 1 tenant, "), "{}", rollover.stdout);
}

#[test]
fn tenant_render_with_json_is_one_document_holding_the_script() {
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let out = Run::new().in_workspace(&ws).args(["--json", "tenant", "render", "lic"]).success();
    let document = one_document(&out);
    assert_eq!(document["tenant"], json!("lic"), "{document}");
    let sql = document["sql"].as_str().expect("the script as a string");
    assert!(sql.starts_with("-- provision tenant render lic") && sql.contains("CREATE SCHEMA \"lic_schema\""));
    let text = Run::new().in_workspace(&ws).args(["tenant", "render", "lic"]).success();
    assert!(sql == text.stdout, "--json carries the same script as the text output");
}

#[test]
fn quiet_hides_chatter_but_never_the_data_a_listing_exists_to_print() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    let schemas = db.strings("SELECT schema_name FROM shared.tenants ORDER BY 1");
    assert_eq!(schemas, ["hdfc_schema", "lic_schema"]);
    for command in [&["status"][..], &["tenant", "list"]] {
        let out = db.provision().in_workspace(&ws).arg("-q").args(command).success();
        for schema in &schemas {
            assert!(out.stdout.contains(schema.as_str()), "-q {command:?} hides {schema}:\n{}", out.stdout);
        }
        assert_eq!(out.stderr, "", "-q {command:?} has no chatter");
    }
    let tables = db.strings("SELECT 'audit.' || c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'audit' ORDER BY 1");
    assert_eq!(tables, ["audit.hdfc_audit_log", "audit.lic_audit_log"]);
    let partitions = db.provision().in_workspace(&ws).args(["-q", "partitions", "list"]).success();
    for table in &tables {
        assert!(partitions.stdout.contains(table.as_str()), "-q partitions list hides {table}:\n{}", partitions.stdout);
    }
    // A fleet command keeps its one summary line, the line cron logs.
    let up = db.provision().in_workspace(&ws).args(["-q", "up"]).success();
    assert_eq!((up.stdout.lines().count(), up.stderr.as_str()), (1, ""), "{}", up.stdout);
    assert!(up.stdout.starts_with("2 tenants: nothing to do"), "{}", up.stdout);
    let rollover = db.provision().in_workspace(&ws).args(["-q", "partitions", "rollover"]).success();
    assert_eq!((rollover.stdout.lines().count(), rollover.stderr.as_str()), (1, ""), "{}", rollover.stdout);
    assert!(rollover.stdout.starts_with("rollover: 2 tenants, "), "{}", rollover.stdout);
    // A password shown only once is not chatter: -q on the sandbox still prints it.
    let sandbox = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let created = Run::new().in_workspace(&sandbox).args(["-q", "up"]).success();
    let shown =
        regex::Regex::new(r"admin@lic\.example password: ([0-9a-f]{32})  \(generated; shown only now\)").unwrap();
    let password = shown.captures(&created.stdout).unwrap_or_else(|| panic!("{}", created.stdout))[1].to_owned();
    let url = Run::new().in_workspace(&sandbox).args(["sandbox", "url"]).success().stdout;
    let check = format!(
        "SELECT (password_hash = crypt('{password}', password_hash))::text FROM lic_schema.users WHERE email = 'admin@lic.example'"
    );
    let out = std::process::Command::new("psql").args(["-X", "-At", "-d", url.trim(), "-c", &check]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "true", "the printed password is the stored one: {out:?}");
    Run::new().in_workspace(&sandbox).args(["sandbox", "stop"]).success();
}

#[test]
fn log_format_json_makes_every_diagnostic_one_timestamped_levelled_line() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n");
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__reporting_flag.sql.tera"),
        "DO $$ BEGIN IF '{{ code }}' = 'hdfc' THEN RAISE EXCEPTION 'hdfc is not ready'; END IF; END $$;\n",
    )
    .unwrap();
    let runs = [
        db.provision().in_workspace(&ws).args(["--log-format", "json", "-v", "tenant", "upgrade", "--all"]).status(1),
        db.provision().in_workspace(&ws).env("PROVISION_LOG", "json").args(["tenant", "upgrade", "--all"]).status(1),
    ];
    let rfc3339 = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$").unwrap();
    for out in &runs {
        let lines: Vec<Value> = out
            .stderr
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{}", out.stderr)))
            .collect();
        for line in &lines {
            assert!(rfc3339.is_match(line["ts"].as_str().unwrap_or_default()), "ts: {line}");
            assert!(["debug", "info", "warn", "error"].contains(&line["level"].as_str().unwrap_or_default()), "{line}");
            assert!(line["message"].is_string(), "{line}");
        }
        let failed = lines.iter().find(|l| l["tenant"] == "hdfc").unwrap_or_else(|| panic!("{}", out.stderr));
        assert_eq!(failed["level"], "warn", "{failed}");
        assert!(failed["message"].as_str().unwrap().contains("hdfc is not ready"), "{failed}");
        assert_eq!(lines.last().unwrap()["level"], "error", "{}", out.stderr);
    }
    assert!(runs[0].stderr.contains("\"level\":\"debug\""), "-v details are lines too:\n{}", runs[0].stderr);
    let usage = Run::new().env("PROVISION_LOG", "json").args(["tenant", "frobnicate"]).status(2);
    let line: Value = serde_json::from_str(usage.stderr.trim()).unwrap_or_else(|e| panic!("{e}: {}", usage.stderr));
    assert!(line["level"] == "error" && line["message"].as_str().unwrap().contains("frobnicate"), "{line}");
    // verify's findings, which `up` prints on stderr, are lines too.
    std::fs::remove_file(templates.join("agent_mitra/tenant/V9__reporting_flag.sql.tera")).unwrap();
    db.execute("DROP INDEX lic_schema.idx_users_email");
    let drifted = db.provision().in_workspace(&ws).args(["--log-format", "json", "up"]).status(1);
    let findings: Vec<Value> = drifted.stderr.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    assert!(findings.iter().any(|l| l["message"].as_str().unwrap().contains("idx_users_email")), "{}", drifted.stderr);
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__reporting_flag.sql.tera"),
        "DO $$ BEGIN IF '{{ code }}' = 'hdfc' THEN RAISE EXCEPTION 'hdfc is not ready'; END IF; END $$;\n",
    )
    .unwrap();
    let text = db.provision().in_workspace(&ws).args(["tenant", "upgrade", "--all"]).status(1);
    assert!(text.stderr.contains("warning: tenant hdfc "), "{}", text.stderr);
    assert!(!text.stderr.contains("tenant hdfc: tenant hdfc"), "no doubled prefix:\n{}", text.stderr);
    let versions = db.strings(
        "SELECT max(version)::text FROM lic_schema.refinery_schema_history \
         UNION ALL SELECT max(version)::text FROM hdfc_schema.refinery_schema_history",
    );
    assert_eq!(versions, ["9", "8"], "lic upgraded, hdfc refused, as the lines say");
}

/// "1 tenants", "1 agents": a one followed by a plural noun (verbs such as
/// "is" and "has" aside).
fn singular_slips(text: &str) -> Vec<String> {
    let pattern = regex::Regex::new(r"(^|[^0-9.,])1 ([a-z_]+s)\b").unwrap();
    let verbs = ["is", "was", "has", "does", "passes"];
    pattern.captures_iter(text).map(|c| c[2].to_owned()).filter(|w| !verbs.contains(&w.as_str())).collect()
}

#[test]
fn one_of_anything_is_singular_in_health_seed_up_and_rollover() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let templates = ws.own_templates();
    let mut said = vec![db.provision().in_workspace(&ws).arg("up").success()];
    said.push(db.provision().in_workspace(&ws).args(["seed", "--sample", "1"]).success());
    let seeded = db.scalar("SELECT count(*)::text FROM lic_schema.agents");
    assert_eq!(seeded, "1", "one agent, to be counted in the singular");
    assert!(!said[1].stdout.contains("1 agents"), "{}", said[1].stdout);
    std::fs::write(templates.join("agent_mitra/tenant/V9__flag.sql.tera"), "COMMENT ON SCHEMA {{ schema }} IS 'v9';\n")
        .unwrap();
    let health = db.provision().in_workspace(&ws).arg("health").status(1);
    assert!(health.stdout.contains("1 of 1 tenant is behind"), "{}", health.stdout);
    said.push(health);
    let dry = db.provision().in_workspace(&ws).args(["up", "--dry-run"]).success();
    assert!(dry.stdout.contains("1 tenant: 1 would change"), "{}", dry.stdout);
    said.push(dry);
    said.push(db.provision().in_workspace(&ws).args(["partitions", "rollover"]).success());
    for out in &said {
        let slips = singular_slips(&format!("{}\n{}", out.stdout, out.stderr));
        assert!(slips.is_empty(), "plural after 1: {slips:?}\n{}\n{}", out.stdout, out.stderr);
        assert!(!out.stderr.contains("warning: WARNING"), "{}", out.stderr);
    }
    assert_eq!(singular_slips("1 tenants, 11 rows, 1 row, 1 is, 0.1 s"), ["tenants"], "the check can fail");
}

#[test]
fn a_failed_tenant_is_named_once_per_line_in_retention_text() {
    let db = TestDb::new();
    let ws =
        support::ledger::ledger_workspace("acme", "[tenants.beta]\nname = \"Ledger beta\"\nblueprint = \"ledger\"\n");
    db.provision().in_workspace(&ws).args(["up", "--no-verify"]).success();
    let now = support::ledger::seed_ledger(&db, "acme");
    db.execute("DROP TABLE beta_schema.sessions");
    let out = db.provision().in_workspace(&ws).args(["retention", "run", "--now", &now, "--dry-run"]).status(1);
    let line = out.stdout.lines().find(|l| l.starts_with("beta ")).unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(line.contains("cannot plan its retention") && !line.contains("tenant beta:"), "{line}");
    assert_eq!(db.scalar("SELECT (to_regclass('beta_schema.sessions') IS NULL)::text"), "true", "the drift it names");
}
