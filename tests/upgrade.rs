//! Fleet upgrades: a failing tenant does not stop the others and a re-run
//! completes; a no-transaction step killed half way is recovered; an edited
//! template is refused, then repaired; an enum value is added and used.

mod support;

use std::time::Duration;

use support::{TestDb, Workspace};

const THREE: &str =
    "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n[tenants.icici]\nname = \"ICICI\"\n";

fn max_version(db: &TestDb, code: &str) -> String {
    db.scalar(&format!("SELECT max(version)::text FROM {code}_schema.refinery_schema_history"))
}

#[test]
fn a_failing_tenant_does_not_stop_the_others_and_a_rerun_completes() {
    let db = TestDb::new();
    let ws = Workspace::new(THREE);
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    // Fails for hdfc until an operator creates public.hdfc_ready.
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__reporting_flag.sql.tera"),
        "DO $$ BEGIN\n  IF '{{ code }}' = 'hdfc' AND to_regclass('public.hdfc_ready') IS NULL THEN\n    \
         RAISE EXCEPTION 'hdfc is not ready';\n  END IF;\nEND $$;\n\
         COMMENT ON SCHEMA {{ schema }} IS 'reporting enabled';\n",
    )
    .unwrap();
    let out = db.provision().in_workspace(&ws).args(["tenant", "upgrade", "--all", "--jobs", "2"]).status(1);
    assert!(out.stderr.contains("hdfc") && !out.stderr.contains("lic,"), "{}", out.stderr);
    assert_eq!(
        (max_version(&db, "lic"), max_version(&db, "icici"), max_version(&db, "hdfc")),
        ("9".into(), "9".into(), "8".into())
    );
    assert_eq!(
        db.scalar("SELECT coalesce(obj_description('hdfc_schema'::regnamespace), 'none')"),
        "none",
        "hdfc half-applied"
    );
    db.execute("CREATE TABLE public.hdfc_ready ()");
    db.provision().in_workspace(&ws).args(["--json", "tenant", "upgrade", "--all", "--jobs", "2"]).success();
    assert_eq!(max_version(&db, "hdfc"), "9");
    assert_eq!(db.scalar("SELECT obj_description('hdfc_schema'::regnamespace)"), "reporting enabled");
    db.provision().in_workspace(&ws).args(["tenant", "upgrade", "--all"]).success().stdout_has("0 upgraded");
}

#[test]
fn a_killed_concurrent_index_build_is_recovered_on_the_next_run() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__display_name_index.sql.tera"),
        "-- On tenants holding data: build without blocking writes.\n-- provision: no-transaction\n\
         CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_users_display_name ON {{ schema }}.users (display_name);\n",
    )
    .unwrap();
    db.with(async |blocker| {
        // An open writer makes CREATE INDEX CONCURRENTLY wait after it has
        // already created the (still INVALID) index.
        blocker.batch_execute("BEGIN; LOCK TABLE lic_schema.users IN ROW EXCLUSIVE MODE").await.unwrap();
        let mut child = db.provision().in_workspace(&ws).args(["tenant", "upgrade", "lic", "--ddl-timeout", "60"]).spawn();
        let exists = "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'idx_users_display_name'";
        let mut waited = 0;
        while blocker.query_one(exists, &[]).await.unwrap().get::<_, i64>(0) != 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += 1;
            assert!(waited < 200, "the concurrent build never started");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // A killed client leaves its backend waiting; end it as a crash would.
        blocker
            .batch_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE '%CREATE INDEX CONCURRENTLY%' AND datname = current_database() AND pid <> pg_backend_pid()")
            .await
            .unwrap();
        blocker.batch_execute("ROLLBACK").await.unwrap();
    });
    std::thread::sleep(Duration::from_millis(300));
    let state = "SELECT i.indisvalid::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'idx_users_display_name'";
    assert_eq!(db.scalar(state), "false", "the killed build must leave an INVALID index behind");
    assert_eq!(max_version(&db, "lic"), "8", "a half-done step is not recorded");
    db.provision().in_workspace(&ws).args(["tenant", "upgrade", "lic"]).success();
    assert_eq!(db.scalar(state), "true");
    assert_eq!(max_version(&db, "lic"), "9");
    db.provision().in_workspace(&ws).arg("verify").success();
}

#[test]
fn an_edited_template_is_refused_then_repaired() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    let file = templates.join("agent_mitra/tenant/V2__insurance_core.sql.tera");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\n-- reviewed 2026-11-22\n");
    std::fs::write(&file, text).unwrap();
    std::fs::write(templates.join("agent_mitra/tenant/V9__noop.sql.tera"), "COMMENT ON SCHEMA {{ schema }} IS 'v9';\n")
        .unwrap();
    let out = db.provision().in_workspace(&ws).args(["tenant", "upgrade", "lic"]).status(1);
    assert!(
        out.stderr.contains("V2__insurance_core") && out.stderr.contains("V2__insurance_core.sql.tera"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("tenant repair lic --accept-checksums"), "{}", out.stderr);
    assert_eq!(max_version(&db, "lic"), "8", "a refused tenant is not touched");
    let status = db.provision().in_workspace(&ws).args(["--json", "status"]).success().json();
    assert!(status["tenants"][0]["problem"].as_str().unwrap_or_default().contains("V2__insurance_core"), "{status}");
    // What changed, not just that something did: the SQL lic ran against what the template renders today.
    let diff = status["tenants"][0]["diffs"][0]["diff"].as_str().unwrap_or_default().to_owned();
    assert!(diff.starts_with("--- applied V2__insurance_core\n+++ template V2__insurance_core\n"), "{diff}");
    let added: Vec<&str> = diff.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).collect();
    let removed = diff.lines().filter(|l| l.starts_with('-') && !l.starts_with("---")).count();
    assert_eq!((added, removed), (vec!["+", "+-- reviewed 2026-11-22"], 0), "{diff}");
    db.provision().in_workspace(&ws).arg("status").success().stdout_has("+-- reviewed 2026-11-22");
    let dry = db.provision().in_workspace(&ws).args(["--json", "tenant", "upgrade", "lic", "--dry-run"]).output();
    let dry: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(dry["tenants"][0]["diffs"][0]["diff"].as_str(), Some(diff.as_str()), "{dry}");
    let before = db.scalar("SELECT checksum FROM lic_schema.refinery_schema_history WHERE version = 2");
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "repair", "lic", "--accept-checksums"])
        .success()
        .stdout_has("V2__insurance_core");
    assert_ne!(db.scalar("SELECT checksum FROM lic_schema.refinery_schema_history WHERE version = 2"), before);
    db.provision().in_workspace(&ws).args(["tenant", "upgrade", "lic"]).success();
    assert_eq!(max_version(&db, "lic"), "9");
}

#[test]
fn an_enum_value_is_added_and_used_in_one_upgrade() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__agents_on_leave.sql.tera"),
        "ALTER TYPE {{ schema }}.agent_status_enum ADD VALUE IF NOT EXISTS 'on_leave' AFTER 'suspended';\n\
         CREATE INDEX idx_agents_on_leave ON {{ schema }}.agents (agent_id) WHERE status = 'on_leave';\n\
         ALTER TABLE {{ schema }}.agents ALTER COLUMN status SET DEFAULT 'on_leave';\n",
    )
    .unwrap();
    // up upgrades lic (the value is committed ahead of V9's transaction), then verifies.
    db.provision().in_workspace(&ws).arg("up").success();
    let labels = db.scalar("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'lic_schema.agent_status_enum'::regtype");
    assert_eq!(labels, "active,inactive,suspended,on_leave,pending_approval,rejected");
    assert_eq!(db.scalar("SELECT (to_regclass('lic_schema.idx_agents_on_leave') IS NOT NULL)::text"), "true");
    assert_eq!(max_version(&db, "lic"), "9");
    // A tenant created from scratch with this blueprint commits before V9 too.
    db.provision().in_workspace(&ws).args(["tenant", "add", "sbi", "--name", "SBI Life"]).success();
    assert_eq!(max_version(&db, "sbi"), "9");
    assert_eq!(db.scalar("SELECT (to_regclass('sbi_schema.idx_agents_on_leave') IS NOT NULL)::text"), "true");
    db.provision().in_workspace(&ws).arg("verify").success();
    let leftover = db.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'provision_verify_ref%'");
    assert_eq!(leftover, "0", "verify's scratch reference left roles behind");
}
