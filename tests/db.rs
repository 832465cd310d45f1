//! `db create|drop|list` and `reset` against a real PostgreSQL.
//!
//! `db create` makes databases cluster-wide while the harness shares one
//! cluster across this binary, so every database is named after the test's
//! own TestDb, and every test has a tenants.toml of its own (a comment naming
//! the test) so its template hash is its own.

mod support;

use serde_json::Value;
use support::{Outcome, TestDb, Workspace};

const ONE_TENANT: &str = "[tenants.lic]\nname = \"LIC\"\n";

fn scalar_in(db: &TestDb, name: &str, sql: &str) -> String {
    db.strings_in(name, sql).into_iter().next().unwrap_or_default()
}

fn catalog_in(db: &TestDb, name: &str) -> Vec<String> {
    db.strings_in(name, include_str!("sql/catalog_snapshot.sql"))
}

fn schemas_in(db: &TestDb, name: &str) -> Vec<String> {
    db.strings_in(name, "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE '%\\_schema' AND nspname <> 'information_schema' ORDER BY 1")
}

/// `datname datistemplate datallowconn` of the databases whose name starts with `prefix`.
fn databases_like(db: &TestDb, prefix: &str) -> Vec<String> {
    db.strings_in(
        "postgres",
        &format!(
            "SELECT datname || ' ' || datistemplate || ' ' || datallowconn FROM pg_database \
             WHERE starts_with(datname, '{prefix}') ORDER BY 1"
        ),
    )
}

fn create_json(db: &TestDb, ws: &Workspace, name: &str) -> Value {
    db.provision().in_workspace(ws).args(["--json", "db", "create", name]).success().json()
}

#[test]
fn two_creates_in_parallel_build_the_template_once() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("");
    let names = [format!("{}_a", db.name), format!("{}_b", db.name)];
    let children: Vec<_> =
        names.iter().map(|n| db.provision().in_workspace(&ws).args(["--json", "db", "create", n]).spawn()).collect();
    let outcomes: Vec<Outcome> =
        children.into_iter().map(|c| Outcome::from(c.wait_with_output().expect("wait for provision"))).collect();
    for out in &outcomes {
        assert_eq!(out.code, 0, "--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    }
    let docs: Vec<Value> = outcomes.iter().map(Outcome::json).collect();
    assert_eq!(docs.iter().filter(|d| d["built_template"] == true).count(), 1, "{docs:#?}");
    let template = docs[0]["template"].as_str().unwrap().to_owned();
    assert_eq!(docs[1]["template"], template.as_str());
    assert!(template.starts_with("provision_tpl_") && template.len() == "provision_tpl_".len() + 16, "{template}");
    // Exactly one template for that hash, finished (no build left over), and closed to connections.
    assert_eq!(databases_like(&db, &template), [format!("{template} true false")]);

    let expected = ["hdfc_schema", "icici_schema", "lic_schema"];
    assert_eq!(schemas_in(&db, &names[0]), expected);
    assert_eq!(schemas_in(&db, &names[1]), expected);
    let catalog = catalog_in(&db, &names[0]);
    assert_eq!(catalog_in(&db, &names[1]), catalog);
    // The clone is what `up` makes from scratch.
    db.provision().in_workspace(&ws).args(["up", "--no-verify"]).success();
    assert_eq!(db.catalog(), catalog, "a clone differs from a database provisioned by `up`");
    for name in &names {
        assert_eq!(
            scalar_in(
                &db,
                name,
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
            ),
            format!("provision db create: template {template}")
        );
    }
}

#[test]
fn a_changed_template_builds_a_new_template_and_drops_the_old_one() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("");
    let templates = ws.own_templates();
    let first = create_json(&db, &ws, &format!("{}_1", db.name));
    assert_eq!(first["built_template"], true);
    let old = first["template"].as_str().unwrap().to_owned();
    let second = create_json(&db, &ws, &format!("{}_2", db.name));
    assert_eq!(second["built_template"], false);
    assert_eq!(second["template"], old.as_str());

    std::fs::write(
        templates.join("agent_mitra/tenant/V9__ci_marker.sql.tera"),
        "COMMENT ON SCHEMA {{ schema }} IS 'ci marker';\n",
    )
    .unwrap();
    let third_name = format!("{}_3", db.name);
    let third = create_json(&db, &ws, &third_name);
    assert_eq!(third["built_template"], true, "{third:#}");
    let new = third["template"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(third["dropped_templates"], serde_json::json!([old]));
    assert!(databases_like(&db, &old).is_empty(), "the stale template is still there");
    assert_eq!(databases_like(&db, &new), [format!("{new} true false")]);
    let marker = "SELECT obj_description('lic_schema'::regnamespace, 'pg_namespace')";
    assert_eq!(scalar_in(&db, &third_name, marker), "ci marker");
    assert_eq!(scalar_in(&db, &third_name, "SELECT max(version)::text FROM lic_schema.refinery_schema_history"), "9");
    assert_eq!(scalar_in(&db, &format!("{}_2", db.name), marker), "", "an existing clone changed");
}

#[test]
fn create_with_sample_list_and_drop() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("");
    let name = format!("{}_s", db.name);
    let built = db
        .provision()
        .in_workspace(&ws)
        .args(["db", "create", &name, "--sample", "2"])
        .success()
        .stdout_has("built template");
    assert!(built.stdout.contains(&format!("created {name} in ")), "{}", built.stdout);
    let policies = "SELECT count(*)::text FROM lic_schema.insurance_policies";
    assert_ne!(scalar_in(&db, &name, policies), "0");
    let other = format!("{}_t", db.name);
    db.provision()
        .in_workspace(&ws)
        .args(["db", "create", &other, "--sample", "2"])
        .success()
        .stdout_has(&format!("created {other} from provision_tpl_"));
    assert_eq!(scalar_in(&db, &other, policies), scalar_in(&db, &name, policies));

    db.provision()
        .in_workspace(&ws)
        .args(["db", "create", &name])
        .status(1)
        .one_line_error()
        .stderr_has("already exists");
    for bad in ["Bad", "1ci", "postgres", "template1", "provision_tpl_0123456789abcdef", &"x".repeat(64)] {
        db.provision().in_workspace(&ws).args(["db", "create", bad]).status(2).one_line_error();
    }
    db.provision().in_workspace(&ws).args(["db", "create", "ci_zero", "--sample", "0"]).status(2).one_line_error();

    let list = db.provision().in_workspace(&ws).args(["--json", "db", "list"]).success().json();
    let listed = list["databases"].as_array().unwrap().iter().find(|d| d["name"] == name.as_str()).expect("listed");
    let template = listed["template"].as_str().unwrap().to_owned();
    assert!(listed["bytes"].as_i64().unwrap() > 0);
    let tpl = list["templates"].as_array().unwrap().iter().find(|t| t["name"] == template.as_str()).expect("template");
    assert_eq!(tpl["sample"], 2);
    assert_eq!(tpl["clones"], 2);
    assert_eq!(tpl["building"], false);
    assert_eq!(tpl["config"], ws.config_path().canonicalize().unwrap().display().to_string());
    db.provision().in_workspace(&ws).args(["db", "list"]).success().stdout_has(&name).stdout_has(&template);

    db.provision().in_workspace(&ws).args(["db", "drop", "postgres"]).status(2).one_line_error();
    db.provision().in_workspace(&ws).args(["db", "drop", &template]).status(2).one_line_error();
    db.provision()
        .in_workspace(&ws)
        .args(["db", "drop", &db.name])
        .status(2)
        .one_line_error()
        .stderr_has("not made by `provision db create`");
    db.provision().in_workspace(&ws).args(["db", "drop", &name]).success().stdout_has(&format!("dropped {name}"));
    assert!(databases_like(&db, &name).iter().all(|d| !d.starts_with(&format!("{name} "))));
    db.provision()
        .in_workspace(&ws)
        .args(["db", "drop", &name])
        .status(2)
        .one_line_error()
        .stderr_has("does not exist");
    let list = db.provision().in_workspace(&ws).args(["--json", "db", "list"]).success().json();
    assert!(list["databases"].as_array().unwrap().iter().all(|d| d["name"] != name.as_str()));
    // The template and the other clone are untouched.
    assert_eq!(databases_like(&db, &template), [format!("{template} true false")]);
    assert_ne!(scalar_in(&db, &other, policies), "0");
}

#[test]
fn reset_refuses_without_confirmation_outside_the_sandbox_and_reprovisions_with_it() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    db.provision().in_workspace(&ws).args(["up", "--no-verify"]).success();
    db.execute("CREATE TABLE public.reset_marker (id int); INSERT INTO public.reset_marker VALUES (1)");
    let before = db.catalog();
    let refusals: [&[&str]; 4] = [
        &["reset"],
        &["reset", "--yes"],
        &["reset", "--confirm", db.name.as_str()],
        &["reset", "--yes", "--confirm", "other"],
    ];
    for args in refusals {
        db.provision().in_workspace(&ws).args(args).status(2).one_line_error();
    }
    db.provision().in_workspace(&ws).arg("reset").status(2).stderr_has(&format!("--yes --confirm {}", db.name));
    assert_eq!(db.catalog(), before, "a refused reset changed the database");
    assert_eq!(db.scalar("SELECT count(*)::text FROM public.reset_marker"), "1");

    db.provision().in_workspace(&ws).args(["reset", "--yes", "--confirm", &db.name]).success().stdout_has("1 created");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_class WHERE relname = 'reset_marker'"), "0");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'lic_schema'"), "1");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants"), "1");
    let mut after = db.catalog();
    after.retain(|row| !row.contains("reset_marker"));
    let mut expected = before;
    expected.retain(|row| !row.contains("reset_marker"));
    assert_eq!(after, expected, "reset did not re-provision the same schema");
}
