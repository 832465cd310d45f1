//! Row tenancy in the core (issue 14), on the branches test pack: a tenant
//! is a row, not a schema; logins see only their own branch whatever the
//! setting holds; backup, remove, restore and activate work on rows. Every
//! assertion reads the catalog or the rows themselves.

mod support;

use support::access::{code_of, count, PASSWORD};
use support::branches::{branch_id, branches_workspace, rows, rows_of, seed_branch};
use support::TestDb;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// A LOGIN role granted `<code>_app` with `provision tenant grant`.
fn login_for(db: &TestDb, ws: &support::Workspace, code: &str) -> String {
    support::access::app_login(db, ws, code)
}

async fn set_branch(c: &Client, id: &str) {
    c.query_one("SELECT set_config('app.branch_id', $1, false)", &[&id]).await.unwrap();
}

#[test]
fn a_row_tenant_is_a_row_with_roles_and_a_registry_entry_and_no_schema() {
    let db = TestDb::new();
    let ws = branches_workspace(&["north1"]);
    db.provision().in_workspace(&ws).args(["up"]).success();
    db.provision()
        .in_workspace(&ws)
        .args([
            "tenant",
            "add",
            "south1",
            "--blueprint",
            "branches",
            "--name",
            "South Branch",
            "--set",
            "city=York",
            "--no-verify",
        ])
        .success();
    assert_eq!(
        db.strings("SELECT code || ' ' || name || ' ' || city || ' ' || status FROM branchco.branches ORDER BY code"),
        ["north1 NORTH1 Leeds active", "south1 South Branch York active"]
    );
    assert_eq!(
        db.strings("SELECT tenant_code || ' ' || coalesce(schema_name, '-') || ' ' || blueprint FROM shared.tenants ORDER BY 1"),
        ["north1 - branches", "south1 - branches"]
    );
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname IN ('north1_schema', 'south1_schema')"),
        "0"
    );
    assert_eq!(
        db.strings("SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'south1\\_%' ORDER BY 1"),
        ["south1_app", "south1_owner", "south1_ro"]
    );
    let list = db.provision().in_workspace(&ws).args(["--json", "tenant", "list"]).success().json();
    let tenancies: Vec<&str> =
        list["tenants"].as_array().unwrap().iter().map(|t| t["tenancy"].as_str().unwrap()).collect();
    assert_eq!(tenancies, ["row", "row"]);
    // Adding it again changes nothing and says it exists (exit 1).
    let before = rows(&db);
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "south1", "--blueprint", "branches", "--name", "Again"])
        .status(1);
    assert_eq!(rows(&db), before);
}

#[test]
fn an_unregistered_row_of_the_same_code_is_refused_and_nothing_is_made() {
    let db = TestDb::new();
    let ws = branches_workspace(&["north2"]);
    db.provision().in_workspace(&ws).args(["up"]).success();
    db.execute("INSERT INTO branchco.branches (code, name) VALUES ('east2', 'Squatter')");
    let catalog = db.catalog();
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "east2", "--blueprint", "branches", "--name", "East"])
        .status(1)
        .stderr_has("not registered");
    assert_eq!(db.catalog(), catalog);
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'east2'"), "0");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'east2\\_%'"), "0");
}

#[test]
fn a_login_sees_and_writes_only_its_own_branch_whatever_the_setting_holds() {
    let db = TestDb::new();
    let ws = branches_workspace(&["north3", "south3"]);
    db.provision().in_workspace(&ws).args(["up"]).success();
    seed_branch(&db, "north3", 3);
    seed_branch(&db, "south3", 2);
    let (north3, south3) = (branch_id(&db, "north3"), branch_id(&db, "south3"));
    let login = login_for(&db, &ws, "north3");
    db.as_login(&login, PASSWORD, async |c| {
        for table in ["branches", "staff", "orders", "activity"] {
            c.batch_execute("RESET app.branch_id").await.unwrap();
            let all = format!("SELECT 1 FROM branchco.{table}");
            assert_eq!(count(c, &all).await, 0, "{table}: unset setting");
            set_branch(c, "").await;
            assert_eq!(count(c, &all).await, 0, "{table}: empty setting");
            set_branch(c, &south3).await;
            assert_eq!(count(c, &all).await, 0, "{table}: south3's id on a north3 login");
            set_branch(c, &north3).await;
            assert!(count(c, &all).await > 0, "{table}: its own rows");
            let others = format!(
                "SELECT 1 FROM branchco.{table} WHERE {} <> {north3}",
                if table == "branches" { "id" } else { "branch_id" }
            );
            assert_eq!(count(c, &others).await, 0, "{table}: no other branch's row");
        }
        // Writes: its own branch, yes; south3's branch id in a row, no (the restrictive policy's check).
        let staff: i32 = c.query_one("SELECT min(id) FROM branchco.staff", &[]).await.unwrap().get(0);
        c.execute(
            "INSERT INTO branchco.orders (branch_id, staff_id, total) VALUES ($1::text::int, $2, 5)",
            &[&north3, &staff],
        )
        .await
        .unwrap();
        let err = c
            .execute("INSERT INTO branchco.staff (branch_id, name) VALUES ($1::text::int, 'Mole')", &[&south3])
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE);
        assert_eq!(
            c.execute("UPDATE branchco.staff SET name = 'x' WHERE branch_id = $1::text::int", &[&south3])
                .await
                .unwrap(),
            0
        );
    });
    // The composite key refuses a north3 order pointing at south3's staff, even for the superuser.
    let south3_staff = db.scalar(&format!("SELECT min(id)::text FROM branchco.staff WHERE branch_id = {south3}"));
    db.with(async |c| {
        let sql =
            format!("INSERT INTO branchco.orders (branch_id, staff_id, total) VALUES ({north3}, {south3_staff}, 1)");
        let err = c.batch_execute(&sql).await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::FOREIGN_KEY_VIOLATION);
    });
    assert_eq!(db.scalar(&format!("SELECT count(*)::text FROM branchco.orders WHERE branch_id = {north3}")), "4");
}

#[test]
fn backup_then_remove_deletes_only_its_rows_keeps_its_trail_and_the_file_restores_them() {
    let db = TestDb::new();
    let ws = branches_workspace(&["north4", "south4"]);
    db.provision().in_workspace(&ws).args(["up"]).success();
    seed_branch(&db, "north4", 3);
    seed_branch(&db, "south4", 2);
    let (north4, south4) = (branch_id(&db, "north4"), branch_id(&db, "south4"));
    let before = rows(&db);
    let file = ws.path().join("north4.sql");
    db.provision().in_workspace(&ws).args(["tenant", "backup", "north4", "--out"]).arg(&file).success();
    let final_file = ws.path().join("final.sql");
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "north4", "--yes", "--backup-out"])
        .arg(&final_file)
        .success();
    let after = rows(&db);
    // South untouched; of north4, only its activity trail is kept.
    assert_eq!(rows_of(&after, &south4), rows_of(&before, &south4));
    let kept: Vec<String> = rows_of(&before, &north4).into_iter().filter(|r| r.starts_with("activity")).collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(rows_of(&after, &north4), kept);
    assert_eq!(db.scalar("SELECT count(*)::text FROM branchco.branches WHERE code = 'north4'"), "0");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'north4'"), "0");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'north4\\_%'"), "0");
    // Both files hold the same rows; restoring the final one brings back exactly what was there.
    let restore = std::process::Command::new("psql")
        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(&final_file)
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    assert_eq!(rows(&db), before);
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'north4' AND schema_name IS NULL"),
        "1"
    );
    // New rows after the restore take fresh keys (the sequences moved past the restored ones).
    db.execute(
        "INSERT INTO branchco.staff (branch_id, name) SELECT id, 'new' FROM branchco.branches WHERE code = 'north4'",
    );
    assert_eq!(db.scalar("SELECT (count(DISTINCT id) = count(*))::text FROM branchco.staff"), "true");
    let first = std::fs::read_to_string(&file).unwrap();
    let last = std::fs::read_to_string(&final_file).unwrap();
    let data = |text: &str| text.lines().filter(|l| l.contains("north4 staff")).count();
    assert_eq!((data(&first), data(&last)), (3, 3));
}

#[test]
fn remove_is_refused_while_another_tenants_row_references_its_rows() {
    let db = TestDb::new();
    let ws = branches_workspace(&["north5", "south5"]);
    db.provision().in_workspace(&ws).args(["up"]).success();
    seed_branch(&db, "north5", 1);
    // A table outside the pack's rules: south5's row points at north5's staff member by a plain key.
    db.execute(
        "CREATE TABLE public.loans (id int PRIMARY KEY, staff_id int REFERENCES branchco.staff (id));
         INSERT INTO public.loans SELECT 1, min(id) FROM branchco.staff",
    );
    let (catalog, before) = (db.catalog(), rows(&db));
    let file = ws.path().join("final.sql");
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "north5", "--yes", "--backup-out"])
        .arg(&file)
        .status(1)
        .stderr_has("loans");
    assert_eq!(db.catalog(), catalog);
    assert_eq!(rows(&db), before);
    assert!(!file.exists(), "no backup is written for a removal that cannot happen");
}

#[test]
fn keep_data_makes_the_branch_unreadable_until_activate() {
    let db = TestDb::new();
    let ws = branches_workspace(&["north6"]);
    db.provision().in_workspace(&ws).args(["up"]).success();
    seed_branch(&db, "north6", 2);
    let north6 = branch_id(&db, "north6");
    let login = login_for(&db, &ws, "north6");
    let visible = |db: &TestDb| {
        db.as_login(&login, PASSWORD, async |c| {
            set_branch(c, &north6).await;
            count(c, "SELECT 1 FROM branchco.staff").await
        })
    };
    assert_eq!(visible(&db), 2);
    db.provision().in_workspace(&ws).args(["tenant", "remove", "north6", "--keep-data"]).success();
    assert_eq!(db.scalar("SELECT status FROM shared.tenants WHERE tenant_code = 'north6'"), "inactive");
    assert_eq!(visible(&db), 0);
    assert_eq!(db.scalar("SELECT count(*)::text FROM branchco.staff"), "2");
    db.provision().in_workspace(&ws).args(["tenant", "activate", "north6"]).success();
    assert_eq!(visible(&db), 2);
}

#[test]
fn retention_run_works_per_row_tenant_and_touches_no_other_branch() {
    let db = TestDb::new();
    let ws = branches_workspace(&["north7", "south7"]);
    db.provision().in_workspace(&ws).args(["up"]).success();
    db.execute(
        "INSERT INTO branchco.activity (branch_id, what, at)
           SELECT b.id, 'old ' || g, now() - interval '400 days' - g * interval '1 day'
           FROM branchco.branches b, generate_series(1, 5) g;
         INSERT INTO branchco.activity (branch_id, what) SELECT id, 'fresh' FROM branchco.branches;",
    );
    let (north, south) = (branch_id(&db, "north7"), branch_id(&db, "south7"));
    let left = |db: &TestDb, id: &str| {
        db.scalar(&format!("SELECT count(*)::text FROM branchco.activity WHERE branch_id = {id}"))
    };
    db.provision().in_workspace(&ws).args(["retention", "run", "--tenant", "north7"]).success();
    assert_eq!((left(&db, &north), left(&db, &south)), ("1".to_owned(), "6".to_owned()));
    // A second run changes nothing; a run for every tenant then takes south's old rows.
    let before = rows(&db);
    db.provision().in_workspace(&ws).args(["retention", "run", "--tenant", "north7"]).success();
    assert_eq!(rows(&db), before);
    db.provision().in_workspace(&ws).args(["retention", "run"]).success();
    assert_eq!((left(&db, &north), left(&db, &south)), ("1".to_owned(), "1".to_owned()));
}

#[test]
fn seed_loads_each_row_tenants_sample_into_its_own_rows_only() {
    let db = TestDb::new();
    let ws = branches_workspace(&["north8", "south8"]);
    db.provision().in_workspace(&ws).args(["up"]).success();
    seed_branch(&db, "south8", 1);
    let south = branch_id(&db, "south8");
    let south_before = rows_of(&rows(&db), &south);
    let indexes = "SELECT string_agg(indexrelid::text, ',' ORDER BY indexrelid) FROM pg_index x
                   JOIN pg_class c ON c.oid = x.indrelid WHERE c.relnamespace = 'branchco'::regnamespace";
    let indexes_before = db.scalar(indexes);
    db.provision().in_workspace(&ws).args(["seed", "--tenant", "north8", "--size", "4"]).success();
    let north = branch_id(&db, "north8");
    assert_eq!(db.scalar(&format!("SELECT count(*)::text FROM branchco.staff WHERE branch_id = {north}")), "4");
    assert_eq!(db.scalar(&format!("SELECT count(*)::text FROM branchco.orders WHERE branch_id = {north}")), "4");
    assert_eq!(rows_of(&rows(&db), &south), south_before);
    // Indexes of the shared tables were never dropped (no bulk mode for a row pack).
    assert_eq!(db.scalar(indexes), indexes_before);
}

#[test]
fn tenant_render_runs_under_psql_to_what_tenant_add_makes() {
    let (rendered, added) = (TestDb::new(), TestDb::new());
    let ws = branches_workspace(&["north9"]);
    for db in [&rendered, &added] {
        db.provision().in_workspace(&ws).args(["up"]).success();
    }
    let args = ["east9", "--blueprint", "branches", "--name", "East", "--set", "city=Hull"];
    let script = rendered.provision().in_workspace(&ws).args(["tenant", "render"]).args(args).success().stdout;
    let psql = std::process::Command::new("psql")
        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", &rendered.url, "-c", &script])
        .output()
        .unwrap();
    assert!(psql.status.success(), "{}", String::from_utf8_lossy(&psql.stderr));
    added.provision().in_workspace(&ws).args(["tenant", "add"]).args(args).success();
    let state = |db: &TestDb| {
        db.strings(
            "SELECT format('%s %s %s %s', code, name, city, status) FROM branchco.branches
             UNION ALL SELECT format('%s %s %s %s %s', tenant_id, tenant_code, tenant_name, schema_name, blueprint)
               FROM shared.tenants
             UNION ALL SELECT format('%s %s', tenant_id, config_key) FROM shared.tenant_config
             UNION ALL SELECT rolname || ' ' || rolcanlogin FROM pg_roles WHERE rolname LIKE 'east9\\_%'
             ORDER BY 1",
        )
    };
    assert_eq!(state(&rendered), state(&added));
    assert!(state(&added).iter().any(|l| l == "east9 East Hull active"));
}

#[test]
fn removing_a_row_tenant_keeps_the_roles_another_database_of_the_cluster_still_uses() {
    let (here, there) = (TestDb::new(), TestDb::new());
    let ws = branches_workspace(&["north10"]);
    for db in [&here, &there] {
        db.provision().in_workspace(&ws).args(["up"]).success();
        seed_branch(db, "north10", 2);
    }
    let login = login_for(&there, &ws, "north10");
    here.provision().in_workspace(&ws).args(["tenant", "remove", "north10", "--yes", "--no-backup"]).success();
    assert_eq!(here.scalar("SELECT count(*)::text FROM shared.tenants"), "0");
    // Roles are cluster-wide: the other database's branch and its login keep working.
    assert_eq!(there.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'north10\\_%'"), "3");
    let id = branch_id(&there, "north10");
    let seen = there.as_login(&login, PASSWORD, async |c| {
        set_branch(c, &id).await;
        count(c, "SELECT 1 FROM branchco.staff").await
    });
    assert_eq!(seen, 2);
    // Once the last database removes it, the roles go.
    there.provision().in_workspace(&ws).args(["tenant", "remove", "north10", "--yes", "--no-backup"]).success();
    assert_eq!(there.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'north10\\_%'"), "0");
}
