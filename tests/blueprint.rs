//! `provision blueprint init | list | show` and tenant attributes, against a
//! real PostgreSQL: a scaffolded pack gives a tenant whose first table is
//! isolated and audited in the catalog, and `verify` is clean.

mod support;

use std::path::Path;

use support::{Run, TestDb, Workspace};

/// A workspace whose tenants.toml (`text`) keeps blueprints in its own
/// `templates/`, next to it.
fn workspace(text: &str) -> Workspace {
    let ws = Workspace::new("");
    std::fs::write(ws.config_path(), text).unwrap();
    ws
}

/// Every file under `dir` with its bytes, sorted: "nothing changed" on disk.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            match path.is_dir() {
                true => {
                    files.push((format!("{}/", path.display()), Vec::new()));
                    stack.push(path);
                }
                false => files.push((path.display().to_string(), std::fs::read(&path).unwrap())),
            }
        }
    }
    files.sort();
    files
}

#[test]
fn init_then_tenant_add_gives_an_isolated_audited_table_and_a_clean_verify() {
    let db = TestDb::new();
    let ws = workspace("# no tenants yet\n");
    Run::new().in_workspace(&ws).args(["blueprint", "init", "shop"]).success().stdout_has("provision tenant add");
    let pack = ws.path().join("templates/shop");
    assert!(pack.join("blueprint.toml").is_file() && pack.join("tenant/V1__first_table.sql.tera").is_file());

    db.provision().in_workspace(&ws).args(["tenant", "add", "acme", "--name", "Acme", "--blueprint", "shop"]).success();
    db.provision().in_workspace(&ws).arg("verify").success();

    let items = "'acme_schema.items'::regclass";
    assert_eq!(
        db.scalar(&format!("SELECT (relrowsecurity AND relforcerowsecurity)::text FROM pg_class WHERE oid = {items}")),
        "true"
    );
    assert_eq!(
        db.strings(&format!(
            "SELECT polname || ' ' || polpermissive FROM pg_policy WHERE polrelid = {items} ORDER BY 1"
        )),
        ["tenant_isolation false", "tenant_rows true"]
    );
    assert_eq!(
        db.scalar(&format!(
            "SELECT count(*)::text FROM pg_trigger WHERE tgrelid = {items} AND tgname = 'audit_row_change'"
        )),
        "1"
    );
    let privileges = "SELECT has_table_privilege('acme_app', 'acme_schema.items', 'INSERT')::text \
                      || has_table_privilege('acme_ro', 'acme_schema.items', 'SELECT')::text \
                      || has_table_privilege('acme_ro', 'acme_schema.items', 'INSERT')::text";
    assert_eq!(db.scalar(privileges), "truetruefalse");
    // No `type` declared: the registry's tenant_type is the blueprint's name.
    assert_eq!(
        db.scalar("SELECT tenant_type || ' ' || blueprint FROM shared.tenants WHERE tenant_code = 'acme'"),
        "shop shop"
    );

    // The policy holds: the application role sees nothing without the
    // tenant's id, and its write lands with the tenant's id and is audited.
    let id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'acme'");
    db.execute(&format!(
        "BEGIN; SET LOCAL ROLE acme_app; SELECT set_config('app.tenant_id', '{id}', true); \
         INSERT INTO acme_schema.items (name) VALUES ('first'); COMMIT;"
    ));
    assert_eq!(db.scalar("SELECT tenant_id::text FROM acme_schema.items"), id);
    assert_eq!(db.scalar("SELECT count(*)::text FROM audit.acme_audit_log"), "1");
    let unset = db.with(async |c| {
        c.batch_execute("BEGIN; SET LOCAL ROLE acme_app").await.unwrap();
        let rows = c.query_one("SELECT count(*) FROM acme_schema.items", &[]).await.unwrap().get::<_, i64>(0);
        let write = c.batch_execute("INSERT INTO acme_schema.items (name) VALUES ('stray')").await;
        c.batch_execute("ROLLBACK").await.ok();
        (rows, write.is_err())
    });
    assert_eq!(unset, (0, true), "without app.tenant_id the app role must see and write nothing");
}

#[test]
fn list_and_show_describe_the_pack_in_json() {
    let ws = workspace("");
    Run::new().in_workspace(&ws).args(["blueprint", "init", "shop"]).success();
    let list = Run::new().in_workspace(&ws).args(["--json", "blueprint", "list"]).success().json();
    let packs = list["blueprints"].as_array().unwrap();
    let shop = packs.iter().find(|p| p["name"] == "shop").expect("shop is listed");
    assert_eq!(
        (&shop["origin"], &shop["tenancy"], &shop["tenant_version"]),
        (&"directory".into(), &"schema".into(), &1.into())
    );
    assert_eq!(shop["shared_versions"], serde_json::json!([]));
    assert!(packs.iter().any(|p| p["origin"] == "shipped"), "{list}");
    Run::new().in_workspace(&ws).args(["blueprint", "list"]).success().stdout_has("shop");

    let show = Run::new().in_workspace(&ws).args(["--json", "blueprint", "show", "shop"]).success().json();
    assert_eq!(show["tables"], serde_json::json!(["items"]));
    assert_eq!(show["tenant_versions"][0]["name"], "V1__first_table");
    assert_eq!(show["audit"]["covered"], serde_json::json!(["items"]));
    assert_eq!((&show["tenancy"], &show["origin"]), (&"schema".into(), &"directory".into()));
    Run::new().in_workspace(&ws).args(["blueprint", "show", "shop"]).success().stdout_has("V1__first_table");
    Run::new().in_workspace(&ws).args(["blueprint", "show", "nope"]).status(2).one_line_error();
}

#[test]
fn init_refuses_an_existing_or_invalid_name_and_writes_nothing() {
    let ws = workspace("");
    Run::new().in_workspace(&ws).args(["blueprint", "init", "shop"]).success();
    let before = tree(ws.path());
    Run::new().in_workspace(&ws).args(["blueprint", "init", "shop"]).status(2).one_line_error().stderr_has("exists");
    for bad in ["Shop", "9lives", "a-b", &"x".repeat(41)] {
        Run::new().in_workspace(&ws).args(["blueprint", "init", bad]).status(2).one_line_error();
    }
    assert_eq!(tree(ws.path()), before, "a refused init changed the directory");
}

#[test]
fn attributes_are_checked_against_the_blueprint_and_stored() {
    let db = TestDb::new();
    let ws = workspace("");
    Run::new().in_workspace(&ws).args(["blueprint", "init", "shop"]).success();
    let manifest = ws.path().join("templates/shop/blueprint.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let attributes = "[attributes.type]\nvalues = [\"basic\", \"premium\"]\ndefault = \"basic\"\n\
                      [attributes.region]\ndefault = \"north\"\n";
    std::fs::write(&manifest, format!("{text}\n{attributes}")).unwrap();
    let before = db.catalog();
    let add = ["tenant", "add", "t1", "--name", "T1", "--blueprint", "shop"];
    db.provision()
        .in_workspace(&ws)
        .args(add)
        .args(["--set", "type=huge"])
        .status(2)
        .one_line_error()
        .stderr_has("t1")
        .stderr_has("\"type\"")
        .stderr_has("basic, premium");
    db.provision().in_workspace(&ws).args(add).args(["--set", "colour=red"]).status(2).stderr_has("colour");
    assert_eq!(db.catalog(), before, "a refused tenant add changed the database");

    db.provision()
        .in_workspace(&ws)
        .args(add)
        .args(["--type", "premium", "--set", "region=south", "--no-verify"])
        .success();
    assert_eq!(db.scalar("SELECT tenant_type FROM shared.tenants WHERE tenant_code = 't1'"), "premium");
    let config = "SELECT c.config_key || '=' || (c.config_value #>> '{}') FROM shared.tenant_config c \
                  JOIN shared.tenants t USING (tenant_id) WHERE t.tenant_code = 't1' ORDER BY 1";
    assert_eq!(db.strings(config), ["attribute.region=south"]);
    let render = ["tenant", "render", "t9", "--name", "T9", "--blueprint", "shop", "--set", "region=east"];
    let script = db.provision().in_workspace(&ws).args(render).success().stdout;
    assert!(script.contains("'attribute.region', to_jsonb('east'::text)") && script.contains("'basic'"), "{script}");

    // tenants.toml: a value the blueprint does not allow stops every command.
    std::fs::write(ws.config_path(), "[tenants.t2]\nname = \"T2\"\nblueprint = \"shop\"\ntype = \"gold\"\n").unwrap();
    let before = db.catalog();
    db.provision().in_workspace(&ws).arg("up").status(2).one_line_error().stderr_has("t2").stderr_has("basic, premium");
    // Two packs and no default: a tenant naming none is told which exist.
    std::fs::write(ws.config_path(), "[tenants.t3]\nname = \"T3\"\n").unwrap();
    db.provision()
        .in_workspace(&ws)
        .arg("up")
        .status(2)
        .one_line_error()
        .stderr_has("t3 names no blueprint")
        .stderr_has("shop");
    assert_eq!(db.catalog(), before);

    // `up` records what tenants.toml gives, defaults filled in.
    let declared = "[tenants.t4]\nname = \"T4\"\nblueprint = \"shop\"\n[tenants.t4.attributes]\nregion = \"west\"\n";
    std::fs::write(ws.config_path(), declared).unwrap();
    db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(db.scalar("SELECT tenant_type FROM shared.tenants WHERE tenant_code = 't4'"), "basic");
    assert_eq!(db.strings(&config.replace("'t1'", "'t4'")), ["attribute.region=west"]);
}
