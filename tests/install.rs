//! The install path: the built binary, run in an empty directory that holds
//! only a `tenants.toml`, builds its tenants from the blueprint shipped inside
//! it (against a server, and against the embedded sandbox), and a
//! `templates/<name>/` next to tenants.toml overrides that shipped pack.

mod support;

use std::path::Path;

use support::{repo, Run, TestDb, Workspace};

/// The shipped pack these tests build (several are shipped; this one is named).
const PACK: &str = "agent_mitra";
const ONE_TENANT: &str = "[tenants.lic]\nname = \"LIC\"\nblueprint = \"agent_mitra\"\n";

/// A temp directory holding nothing but `tenants.toml` with `text`.
fn bare_directory(text: &str) -> Workspace {
    let ws = Workspace::new("");
    std::fs::write(ws.config_path(), text).unwrap();
    let entries: Vec<_> = std::fs::read_dir(ws.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, ["tenants.toml"], "the directory must hold only tenants.toml");
    ws
}

/// The shipped pack's name and the tables it creates, as `blueprint show` reads them.
fn shipped_pack(ws: &Workspace) -> (String, Vec<String>) {
    let list = Run::new().in_workspace(ws).args(["--json", "blueprint", "list"]).success().json();
    let packs = list["blueprints"].as_array().unwrap();
    let shipped: Vec<&serde_json::Value> =
        packs.iter().filter(|p| p["origin"] == "shipped" && p["name"] == PACK).collect();
    assert_eq!(shipped.len(), 1, "{list}");
    let name = shipped[0]["name"].as_str().unwrap().to_owned();
    let show = Run::new().in_workspace(ws).args(["--json", "blueprint", "show", &name]).success().json();
    let tables = show["tables"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    (name, tables)
}

/// The ordinary and partitioned tables of `schema`, from the catalog.
const TABLES_OF: &str = "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1";

fn assert_has_tables(found: &[String], expected: &[String]) {
    assert!(expected.len() > 5, "the shipped pack creates tables: {expected:?}");
    let missing: Vec<&String> = expected.iter().filter(|t| !found.contains(t)).collect();
    assert!(missing.is_empty(), "tables missing from lic_schema: {missing:?} (found {found:?})");
}

#[test]
fn an_empty_directory_with_tenants_toml_builds_from_the_shipped_blueprint() {
    let db = TestDb::new();
    let ws = bare_directory(ONE_TENANT);
    db.provision().in_workspace(&ws).arg("up").success();
    let (name, tables) = shipped_pack(&ws);
    let found = db.with(async |c| {
        let rows = c.query(TABLES_OF, &[&"lic_schema"]).await.unwrap();
        rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>()
    });
    assert_has_tables(&found, &tables);
    assert_eq!(db.scalar("SELECT blueprint FROM shared.tenants WHERE tenant_code = 'lic'"), name);
    let status = db.provision().in_workspace(&ws).args(["--json", "status"]).success().json();
    assert_eq!(
        (&status["tenants"][0]["blueprint"], &status["tenants"][0]["blueprint_from"]),
        (&name.as_str().into(), &"shipped".into())
    );
    db.provision().in_workspace(&ws).arg("status").success().stdout_has("from shipped");
    assert!(!ws.path().join("templates").exists(), "up must not write templates/");
}

#[test]
fn a_templates_directory_overrides_the_shipped_blueprint_of_its_name() {
    let db = TestDb::new();
    let ws = bare_directory(ONE_TENANT);
    let (name, _) = shipped_pack(&ws);
    let pack = ws.path().join("templates").join(&name);
    copy_dir(&repo().join("templates").join(&name), &pack);
    let marker = "COMMENT ON SCHEMA {{ schema }} IS 'built from the directory';\n";
    std::fs::write(pack.join("tenant/V90__marker.sql.tera"), marker).unwrap();

    db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(
        db.scalar("SELECT obj_description('lic_schema'::regnamespace, 'pg_namespace')"),
        "built from the directory"
    );
    assert_eq!(db.scalar("SELECT max(version)::text FROM lic_schema.refinery_schema_history"), "90");
    let status = db.provision().in_workspace(&ws).args(["--json", "status"]).success().json();
    let from = status["tenants"][0]["blueprint_from"].as_str().unwrap().to_owned();
    assert_eq!(from, format!("templates/{name}"), "{status}");
    db.provision().in_workspace(&ws).args(["tenant", "list"]).success().stdout_has(&format!("templates/{name}"));
    let list = Run::new().in_workspace(&ws).args(["--json", "blueprint", "list"]).success().json();
    assert_eq!(list["blueprints"][0]["origin"], "overridden", "{list}");
}

/// Stops the embedded sandbox of a directory when the test ends, even by a panic.
struct StopSandbox<'a>(&'a Workspace);

impl Drop for StopSandbox<'_> {
    fn drop(&mut self) {
        Run::new().in_workspace(self.0).args(["sandbox", "stop"]).output();
    }
}

#[test]
fn an_empty_directory_with_tenants_toml_builds_on_the_embedded_sandbox() {
    let ws = bare_directory(ONE_TENANT);
    let _stop = StopSandbox(&ws);
    Run::new().in_workspace(&ws).arg("up").success();
    let url = Run::new().in_workspace(&ws).args(["sandbox", "url"]).success().stdout;
    let sql = TABLES_OF.replace("$1", "'lic_schema'");
    let psql = std::process::Command::new("psql").args(["-X", "-At", "-d", url.trim(), "-c", &sql]).output().unwrap();
    assert!(psql.status.success(), "{psql:?}");
    let found: Vec<String> = String::from_utf8_lossy(&psql.stdout).lines().map(str::to_owned).collect();
    let (_, tables) = shipped_pack(&ws);
    assert_has_tables(&found, &tables);
    let status = Run::new().in_workspace(&ws).args(["--json", "status"]).success().json();
    assert_eq!(status["tenants"][0]["blueprint_from"], "shipped", "{status}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        match entry.file_type().unwrap().is_dir() {
            true => copy_dir(&entry.path(), &dest),
            false => {
                std::fs::copy(entry.path(), dest).unwrap();
            }
        }
    }
}
