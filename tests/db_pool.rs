//! `db create --pool N` against a real PostgreSQL: spare clones of the
//! current template, renamed to the caller's database and refilled by a
//! detached `db refill`; parallel takes, refill, staleness, `db list` and
//! `db drop --spares`.
//!
//! As in tests/db.rs, every test has a tenants.toml of its own (a comment
//! naming its TestDb), so its template, and so its spares, are its own on
//! the cluster this binary shares.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Outcome, TestDb, Workspace};

fn admin(db: &TestDb, sql: &str) -> Vec<String> {
    db.strings_in("postgres", sql)
}

/// The spares of `template` on the server, by name.
fn spares(db: &TestDb, template: &str) -> Vec<String> {
    admin(
        db,
        &format!("SELECT datname::text FROM pg_database WHERE starts_with(datname, '{template}_spare_') ORDER BY 1"),
    )
}

/// Waits (up to two minutes) until `template` has exactly `n` spares, as the detached refill makes them.
#[track_caller]
fn wait_for_spares(db: &TestDb, template: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = spares(db, template);
        if now.len() == n {
            return now;
        }
        assert!(Instant::now() < deadline, "{template} has {} spares, not {n}: {now:?}", now.len());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `datallowconn`, the comment, and whether anyone is connected, of database `name`.
fn state_of(db: &TestDb, name: &str) -> String {
    admin(
        db,
        &format!(
            "SELECT datallowconn || ' ' || coalesce(shobj_description(oid, 'pg_database'), '-') || ' ' || \
             (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname) \
             FROM pg_database d WHERE datname = '{name}'"
        ),
    )
    .join("\n")
}

fn catalog_in(db: &TestDb, name: &str) -> Vec<String> {
    db.strings_in(name, include_str!("sql/catalog_snapshot.sql"))
}

fn create(db: &TestDb, ws: &Workspace, args: &[&str]) -> Value {
    db.provision().in_workspace(ws).args(["--json", "db", "create"]).args(args).success().json()
}

fn template_of(doc: &Value) -> String {
    doc["template"].as_str().expect("a template").to_owned()
}

#[test]
fn parallel_creates_take_distinct_spares_and_each_gets_a_complete_database() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("");
    let first = format!("{}_first", db.name);
    let doc = create(&db, &ws, &[&first, "--pool", "4"]);
    assert_eq!((doc["built_template"].clone(), doc["spare"].clone()), (Value::Bool(true), Value::Null));
    assert_eq!((doc["pool"].as_u64(), doc["refilling"].as_bool()), (Some(4), Some(true)));
    let template = template_of(&doc);
    let before = wait_for_spares(&db, &template, 4);
    for spare in &before {
        let state = state_of(&db, spare);
        // Closed to connections, unused, and labelled with the inputs it was made from.
        assert!(state.starts_with("false provision spare: quick ") && state.ends_with(" 0"), "{spare}: {state}");
    }

    // Five callers, four spares, and no refill (--pool 0): four renames and one clone.
    let names: Vec<String> = (0..5).map(|i| format!("{}_p{i}", db.name)).collect();
    let children: Vec<_> = names
        .iter()
        .map(|n| db.provision().in_workspace(&ws).args(["--json", "db", "create", n, "--pool", "0"]).spawn())
        .collect();
    let outcomes: Vec<Outcome> = children.into_iter().map(|c| Outcome::from(c.wait_with_output().unwrap())).collect();
    for out in &outcomes {
        assert_eq!(out.code, 0, "--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    }
    let docs: Vec<Value> = outcomes.iter().map(Outcome::json).collect();
    let mut taken: Vec<String> = docs.iter().filter_map(|d| d["spare"].as_str().map(str::to_owned)).collect();
    taken.sort();
    assert_eq!(taken, before, "each spare to exactly one caller: {docs:#?}");
    assert_eq!(docs.iter().filter(|d| d["spare"].is_null()).count(), 1);
    assert!(docs.iter().all(|d| d["template"] == template.as_str() && d["refilling"] == false), "{docs:#?}");
    assert!(spares(&db, &template).is_empty(), "the pool is empty and nobody refills it");

    let expected = catalog_in(&db, &first);
    assert!(expected.iter().any(|row| row.contains("lic_schema")), "the clone holds the tenants");
    for name in &names {
        assert_eq!(state_of(&db, name), format!("true provision db create: template {template} 0"));
        assert_eq!(catalog_in(&db, name), expected, "{name} differs from a clone of the template");
    }
}

#[test]
fn the_pool_of_tenants_toml_is_refilled_after_a_take_listed_and_dropped() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("\n[db]\npool = 2\n");
    let (a, b) = (format!("{}_a", db.name), format!("{}_b", db.name));
    let doc = create(&db, &ws, &[&a]);
    assert_eq!((doc["pool"].as_u64(), doc["refilling"].as_bool()), (Some(2), Some(true)));
    let template = template_of(&doc);
    let first = wait_for_spares(&db, &template, 2);

    // A take renames one of them (found by the label the refill gave it,
    // before any blueprint is loaded), and the detached refill makes the pool whole again.
    let out = db.provision().in_workspace(&ws).args(["--json", "-v", "db", "create", &b]).success();
    let doc = out.json();
    let spare = doc["spare"].as_str().expect("a spare was taken").to_owned();
    assert!(out.stderr.contains(&format!("took the spare {spare} by its label")), "{}", out.stderr);
    assert!(first.contains(&spare), "{spare} is not one of {first:?}");
    assert_eq!(doc["refilling"], true);
    assert!(!spares(&db, &template).contains(&spare));
    let second = wait_for_spares(&db, &template, 2);
    assert!(second.iter().all(|s| *s != spare) && second.iter().filter(|s| first.contains(s)).count() == 1);
    assert_eq!(catalog_in(&db, &b), catalog_in(&db, &a));

    // `db list` shows them, marked as spares of their template.
    // (Other tests' spares share the cluster: only this template's are looked at.)
    let list = db.provision().in_workspace(&ws).args(["--json", "db", "list"]).success().json();
    let ours: Vec<&Value> =
        list["spares"].as_array().unwrap().iter().filter(|s| s["template"] == template.as_str()).collect();
    assert_eq!(ours.iter().map(|s| s["name"].as_str().unwrap()).collect::<Vec<_>>(), second);
    assert!(ours.iter().all(|s| s["bytes"].as_i64().unwrap() > 0));
    let entry = list["templates"].as_array().unwrap().iter().find(|t| t["name"] == template.as_str()).unwrap();
    assert_eq!((entry["spares"].as_u64(), entry["clones"].as_u64()), (Some(2), Some(2)));
    assert!(list["databases"].as_array().unwrap().iter().all(|d| !d["name"].as_str().unwrap().contains("_spare_")));
    let text = db.provision().in_workspace(&ws).args(["db", "list"]).success();
    assert!(text.stdout.lines().any(|l| l.starts_with(&second[0]) && l.ends_with(&format!("spare of {template}"))));

    // The refill itself: up to N, and down to N.
    db.provision().in_workspace(&ws).args(["db", "refill", "--pool", "3"]).success();
    assert_eq!(spares(&db, &template).len(), 3);
    db.provision().in_workspace(&ws).args(["db", "refill", "--pool", "1"]).success();
    assert_eq!(spares(&db, &template).len(), 1);

    // A spare is no user database, and `db drop --spares` drops them all.
    let left = spares(&db, &template).remove(0);
    db.provision().in_workspace(&ws).args(["db", "drop", &left]).status(2).one_line_error();
    let dropped = db.provision().in_workspace(&ws).args(["--json", "db", "drop", "--spares"]).success().json();
    assert!(dropped["dropped_spares"].as_array().unwrap().iter().any(|s| s == left.as_str()), "{dropped}");
    assert!(spares(&db, &template).is_empty());
    assert_eq!(state_of(&db, &a), format!("true provision db create: template {template} 0"));
    assert_eq!(state_of(&db, &b), format!("true provision db create: template {template} 0"));
    db.provision().in_workspace(&ws).args(["db", "drop", "--spares"]).success().stdout_has("no spare databases");
}

#[test]
fn a_stale_template_never_hands_out_its_spares_and_they_are_dropped() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("");
    let (a, b, c) = (format!("{}_a", db.name), format!("{}_b", db.name), format!("{}_c", db.name));
    let old = template_of(&create(&db, &ws, &[&a, "--pool", "2"]));
    let stale = wait_for_spares(&db, &old, 2);

    // A new tenant changes the template: the old spares lack it.
    let shipped = std::fs::read_to_string(support::repo().join("tenants.toml")).unwrap();
    ws.write_config(&format!("{shipped}\n# test database {}\n[tenants.sbi]\nname = \"SBI\"\n", db.name));
    let doc = create(&db, &ws, &[&b, "--pool", "2"]);
    let new = template_of(&doc);
    assert_ne!(new, old);
    assert_eq!((doc["built_template"].as_bool(), doc["spare"].clone()), (Some(true), Value::Null), "{doc:#}");
    assert_eq!(doc["dropped_templates"], serde_json::json!([old]));
    let mut dropped: Vec<String> =
        doc["dropped_spares"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
    dropped.sort();
    assert_eq!(dropped, stale);
    assert!(spares(&db, &old).is_empty(), "stale spares are left");
    let sbi = "SELECT count(*)::text FROM pg_namespace WHERE nspname = 'sbi_schema'";
    assert_eq!(db.strings_in(&b, sbi), ["1"]);

    // The new pool fills from the new template, and its spares are current.
    wait_for_spares(&db, &new, 2);
    let doc = create(&db, &ws, &[&c, "--pool", "2"]);
    assert!(doc["spare"].as_str().is_some_and(|s| s.starts_with(&format!("{new}_spare_"))), "{doc:#}");
    assert_eq!(db.strings_in(&c, sbi), ["1"]);
    assert_eq!(catalog_in(&db, &c), catalog_in(&db, &b));
    wait_for_spares(&db, &new, 2);
}

#[test]
fn spares_whose_template_is_gone_are_dropped_by_the_next_create() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("");
    let old = template_of(&create(&db, &ws, &[&format!("{}_a", db.name), "--pool", "1"]));
    let orphan = wait_for_spares(&db, &old, 1);
    // As an older provision (or a DBA) would leave them: the template dropped, the spare not.
    admin(&db, &format!("ALTER DATABASE {old} IS_TEMPLATE false"));
    admin(&db, &format!("DROP DATABASE {old}"));
    ws.write_config(&format!("{}\n# changed\n", std::fs::read_to_string(ws.config_path()).unwrap()));
    let doc = create(&db, &ws, &[&format!("{}_b", db.name)]);
    assert!(spares(&db, &old).is_empty(), "the orphan is left: {doc:#}");
    // Any test's `db create` on this shared cluster may have dropped it first.
    let by_this_call = doc["dropped_spares"].as_array().unwrap();
    assert!(by_this_call.is_empty() || *by_this_call == orphan, "{doc:#}");
    assert_eq!(doc["refilling"], false, "no pool asked for");
}

#[test]
fn create_prints_a_url_without_password_that_connects_and_refuses_bad_pools() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("");
    let name = format!("{}_u", db.name);
    let out = db.provision().in_workspace(&ws).args(["db", "create", &name]).success();
    let url = out.stdout.lines().find(|l| l.starts_with("postgresql://")).expect("a URL line").to_owned();
    assert!(!url.contains("***") && !url.contains("password"), "{url}");
    let reached = support::runtime().block_on(async {
        let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
        let client = target.connect().await.unwrap_or_else(|e| panic!("connect with {url}: {e:#}"));
        client.query_one("SELECT current_database()::text", &[]).await.unwrap().get::<_, String>(0)
    });
    assert_eq!(reached, name);
    let quiet = db.provision().in_workspace(&ws).args(["-q", "db", "create", &format!("{name}2")]).success();
    assert_eq!(quiet.stdout.trim(), url.replace(&name, &format!("{name}2")), "--quiet keeps the URL, the data");

    db.provision().in_workspace(&ws).args(["db", "create", "ci_x", "--pool", "101"]).status(2).one_line_error();
    // clap's own refusals (its usage text follows the error line).
    for bad in [&["db", "drop"][..], &["db", "drop", "ci_x", "--spares"]] {
        db.provision().in_workspace(&ws).args(bad).status(2).stderr_has("error: ");
    }
    let pooled = Workspace::new(&format!("# {}\n[db]\npool = 1000\n", db.name));
    db.provision()
        .in_workspace(&pooled)
        .args(["db", "create", "ci_x"])
        .status(2)
        .one_line_error()
        .stderr_has("[db] pool");
    assert!(admin(&db, "SELECT datname::text FROM pg_database WHERE datname = 'ci_x'").is_empty());
}

#[test]
fn an_edited_template_file_keeps_the_labelled_spares_from_being_taken() {
    let db = TestDb::new();
    let ws = db.own_shipped_workspace("\n[db]\npool = 1\n");
    let templates = ws.own_templates();
    let old = template_of(&create(&db, &ws, &[&format!("{}_a", db.name)]));
    let stale = wait_for_spares(&db, &old, 1);
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__ci_marker.sql.tera"),
        "COMMENT ON SCHEMA {{ schema }} IS 'ci marker';\n",
    )
    .unwrap();
    let b = format!("{}_b", db.name);
    let doc = create(&db, &ws, &[&b]);
    assert_eq!((doc["built_template"].as_bool(), doc["spare"].clone()), (Some(true), Value::Null), "{doc:#}");
    assert_eq!(doc["dropped_spares"], serde_json::json!(stale));
    let marker = "SELECT obj_description('lic_schema'::regnamespace, 'pg_namespace')";
    assert_eq!(db.strings_in(&b, marker), ["ci marker"]);
    // The new spare is labelled with the new inputs: the next call takes it.
    let new = template_of(&doc);
    wait_for_spares(&db, &new, 1);
    let c = format!("{}_c", db.name);
    let doc = create(&db, &ws, &[&c]);
    assert!(doc["spare"].as_str().is_some_and(|s| s.starts_with(&format!("{new}_spare_"))), "{doc:#}");
    assert_eq!(db.strings_in(&c, marker), ["ci marker"]);
}
