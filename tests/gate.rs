//! The template safety gate (issue 11, item 5): a pending version that would
//! break isolation is refused for every tenant before any is touched, and
//! the catalog proves nothing was applied; a good version passes; a lock
//! hazard on a table with data warns, and `--strict` refuses it; the
//! per-tenant check sees what a tenant's own transaction did.

mod support;

use support::{TestDb, Workspace};

const TWO: &str = "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n";
const TENANTS: [&str; 2] = ["lic", "hdfc"];

/// Two tenants at the blueprint's latest version (8) on a copy of the
/// blueprint that the test extends with `V9__<name>`.
fn fleet_with_v8(name: &str, sql: &str) -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = Workspace::new(TWO);
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    std::fs::write(templates.join(format!("agent_mitra/tenant/V9__{name}.sql.tera")), sql).unwrap();
    (db, ws)
}

/// No tenant got version 9: no history row, and the catalog is as before.
fn assert_nobody_got_v8(db: &TestDb, before: &[String]) {
    for code in TENANTS {
        let v8 =
            db.scalar(&format!("SELECT count(*)::text FROM {code}_schema.refinery_schema_history WHERE version = 9"));
        assert_eq!(v8, "0", "{code} recorded V9");
    }
    assert_eq!(db.catalog(), before, "the catalog changed although the gate refused");
}

/// `tenant upgrade --all` and `up` both refuse, naming the version, its file,
/// the object and the invariant; nothing is applied.
fn refused_everywhere(db: &TestDb, ws: &Workspace, name: &str, object: &str, invariant: &str) {
    let before = db.catalog();
    for command in [&["tenant", "upgrade", "--all", "--jobs", "2"][..], &["up"][..]] {
        let out = db.provision().in_workspace(ws).args(command).status(1);
        for wanted in [format!("V9__{name}"), format!("V9__{name}.sql.tera"), object.to_owned(), invariant.to_owned()] {
            assert!(out.stderr.contains(&wanted), "{command:?}: stderr lacks {wanted:?}:\n{}", out.stderr);
        }
        assert_nobody_got_v8(db, &before);
    }
}

#[test]
fn a_table_without_rls_force_or_policy_is_refused_for_every_tenant() {
    let (db, ws) =
        fleet_with_v8("gate_unsafe", "CREATE TABLE {{ schema }}.gate_unsafe (id int PRIMARY KEY, note text);\n");
    refused_everywhere(&db, &ws, "gate_unsafe", "table {{ schema }}.gate_unsafe", "row level security");
    let out = db.provision().in_workspace(&ws).args(["tenant", "upgrade", "lic"]).status(1);
    assert!(out.stderr.contains("tenant policy: no restrictive policy tenant_isolation"), "{}", out.stderr);
    for code in TENANTS {
        assert_eq!(
            db.scalar(&format!("SELECT coalesce(to_regclass('{code}_schema.gate_unsafe')::text, 'absent')")),
            "absent"
        );
    }
}

#[test]
fn a_function_without_a_pinned_search_path_is_refused() {
    let (db, ws) = fleet_with_v8(
        "gate_echo",
        "CREATE FUNCTION {{ schema }}.gate_echo(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x';\n",
    );
    refused_everywhere(&db, &ws, "gate_echo", "function {{ schema }}.gate_echo(x integer)", "pinned search_path");
    assert_eq!(
        db.scalar("SELECT coalesce(to_regprocedure('lic_schema.gate_echo(integer)')::text, 'absent')"),
        "absent"
    );
}

#[test]
fn a_grant_to_public_is_refused() {
    let (db, ws) = fleet_with_v8("gate_public", "GRANT SELECT ON {{ schema }}.agents TO PUBLIC;\n");
    refused_everywhere(&db, &ws, "gate_public", "{{ schema }}.agents", "no PUBLIC grants");
    let public = "SELECT count(*)::text FROM pg_class c, aclexplode(c.relacl) a \
                  WHERE c.oid = 'lic_schema.agents'::regclass AND a.grantee = 0";
    assert_eq!(db.scalar(public), "0");
}

#[test]
fn a_grant_to_a_role_outside_the_tenant_is_refused() {
    // provision_tenant_apps holds every tenant's app role.
    let (db, ws) =
        fleet_with_v8("gate_shared", "GRANT SELECT ON {{ schema }}.policyholders TO provision_tenant_apps;\n");
    refused_everywhere(&db, &ws, "gate_shared", "provision_tenant_apps, a role outside the tenant", "grants");
}

#[test]
fn a_version_that_drops_force_on_an_existing_table_is_refused() {
    let (db, ws) = fleet_with_v8("gate_no_force", "ALTER TABLE {{ schema }}.agents NO FORCE ROW LEVEL SECURITY;\n");
    refused_everywhere(&db, &ws, "gate_no_force", "table {{ schema }}.agents", "row level security");
    for code in TENANTS {
        let forced = db.scalar(&format!(
            "SELECT relforcerowsecurity::text FROM pg_class WHERE oid = '{code}_schema.agents'::regclass"
        ));
        assert_eq!(forced, "true", "{code}");
    }
}

#[test]
fn a_bad_version_fixed_by_the_next_passes_and_a_later_breach_is_blamed_on_its_version() {
    let (db, ws) = fleet_with_v8("gate_first", "CREATE TABLE {{ schema }}.gate_later (id int PRIMARY KEY);\n");
    let templates = ws.path().join("templates/agent_mitra/tenant");
    std::fs::write(templates.join("V10__gate_fix.sql.tera"), secure("gate_later")).unwrap();
    std::fs::write(
        templates.join("V11__gate_breach.sql.tera"),
        "ALTER TABLE {{ schema }}.gate_later NO FORCE ROW LEVEL SECURITY;\n",
    )
    .unwrap();
    let before = db.catalog();
    let out = db.provision().in_workspace(&ws).args(["tenant", "upgrade", "--all"]).status(1);
    assert!(out.stderr.contains("V11__gate_breach (") && !out.stderr.contains("V9__gate_first ("), "{}", out.stderr);
    assert_nobody_got_v8(&db, &before);
    std::fs::remove_file(templates.join("V11__gate_breach.sql.tera")).unwrap();
    db.provision().in_workspace(&ws).args(["tenant", "upgrade", "--all"]).success();
    for code in TENANTS {
        assert_eq!(db.scalar(&format!("SELECT max(version)::text FROM {code}_schema.refinery_schema_history")), "10");
    }
}

/// ENABLE + FORCE, the tenant policy, and the permissive row policy.
fn secure(table: &str) -> String {
    format!(
        "ALTER TABLE {{{{ schema }}}}.{table} ENABLE ROW LEVEL SECURITY;\n\
         ALTER TABLE {{{{ schema }}}}.{table} FORCE ROW LEVEL SECURITY;\n\
         CREATE POLICY tenant_isolation ON {{{{ schema }}}}.{table} AS RESTRICTIVE FOR ALL\n\
         \x20   USING (nullif(current_setting('app.tenant_id', true), '')::uuid = '{{{{ tenant_id }}}}'::uuid)\n\
         \x20   WITH CHECK (nullif(current_setting('app.tenant_id', true), '')::uuid = '{{{{ tenant_id }}}}'::uuid);\n\
         CREATE POLICY tenant_rows ON {{{{ schema }}}}.{table} FOR ALL USING (true) WITH CHECK (true);\n"
    )
}

#[test]
fn a_good_version_passes_and_reaches_every_tenant() {
    let sql = format!(
        "CREATE TABLE {{{{ schema }}}}.gate_notes (note_id int PRIMARY KEY, body text NOT NULL);\n{}",
        secure("gate_notes")
    );
    let (db, ws) = fleet_with_v8("gate_notes", &sql);
    let out = db.provision().in_workspace(&ws).args(["tenant", "upgrade", "--all", "--strict"]).success();
    assert!(!out.stderr.contains("lock hazard"), "{}", out.stderr);
    for code in TENANTS {
        assert_eq!(db.scalar(&format!("SELECT max(version)::text FROM {code}_schema.refinery_schema_history")), "9");
        let trigger = format!("SELECT count(*)::text FROM pg_trigger WHERE tgrelid = '{code}_schema.gate_notes'::regclass AND tgname = 'audit_row_change'");
        assert_eq!(db.scalar(&trigger), "1", "{code}");
    }
    db.provision().in_workspace(&ws).arg("verify").success();
    // The reference tenant was rolled back: no role, registry row or schema left.
    let left = "SELECT (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'provision_gate%') \
                + (SELECT count(*) FROM shared.tenants WHERE tenant_code LIKE 'provision_gate%') \
                + (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'provision_gate%')";
    assert_eq!(db.scalar(&format!("SELECT ({left})::text")), "0");
}

#[test]
fn an_index_on_a_table_with_data_warns_and_strict_refuses_it() {
    // users holds each tenant's administrator; agents is empty.
    let (db, ws) = fleet_with_v8(
        "gate_index",
        "CREATE INDEX idx_users_gate ON {{ schema }}.users (display_name);\n\
         CREATE INDEX idx_agents_gate ON {{ schema }}.agents (business_name);\n",
    );
    let before = db.catalog();
    for command in [&["tenant", "upgrade", "--all", "--strict"][..], &["up", "--strict"][..]] {
        let out = db.provision().in_workspace(&ws).args(command).status(1);
        let statement = "CREATE INDEX idx_users_gate ON {{ schema }}.users (display_name)";
        for wanted in ["V9__gate_index", "V9__gate_index.sql.tera", statement, "--strict"] {
            assert!(out.stderr.contains(wanted), "{command:?}: stderr lacks {wanted:?}:\n{}", out.stderr);
        }
        assert!(!out.stderr.contains("idx_agents_gate"), "agents holds no rows:\n{}", out.stderr);
        assert_nobody_got_v8(&db, &before);
    }
    let out = db.provision().in_workspace(&ws).args(["tenant", "upgrade", "--all"]).success();
    let warned =
        out.stderr.contains("warning:") && out.stderr.contains("CREATE INDEX idx_users_gate ON {{ schema }}.users");
    assert!(warned, "{}", out.stderr);
    for code in TENANTS {
        let index = format!("SELECT coalesce(to_regclass('{code}_schema.idx_users_gate')::text, 'absent')");
        assert_eq!(db.scalar(&index), format!("{code}_schema.idx_users_gate"));
    }
}

#[test]
fn a_new_table_indexed_in_the_same_version_and_a_new_tenant_are_not_hazards() {
    let sql = format!(
        "CREATE TABLE {{{{ schema }}}}.gate_log (id int PRIMARY KEY, at timestamptz);\n\
         CREATE INDEX idx_gate_log_at ON {{{{ schema }}}}.gate_log (at);\n{}",
        secure("gate_log")
    );
    let (db, ws) = fleet_with_v8("gate_log", &sql);
    let out = db.provision().in_workspace(&ws).args(["up", "--strict"]).success();
    assert!(!out.stderr.contains("lock hazard"), "{}", out.stderr);
    std::fs::write(
        ws.path().join("templates/agent_mitra/tenant/V10__gate_index.sql.tera"),
        "CREATE INDEX idx_users_gate ON {{ schema }}.users (display_name);\n",
    )
    .unwrap();
    let out = db.provision().in_workspace(&ws).args(["tenant", "add", "icici", "--name", "ICICI"]).success();
    assert!(!out.stderr.contains("lock hazard"), "a new tenant holds no data:\n{}", out.stderr);
}

#[test]
fn tenant_add_refuses_a_blueprint_that_breaks_isolation_and_creates_nothing() {
    let (db, ws) = fleet_with_v8("gate_unsafe", "CREATE TABLE {{ schema }}.gate_unsafe (id int PRIMARY KEY);\n");
    let before = db.catalog();
    let out = db.provision().in_workspace(&ws).args(["tenant", "add", "icici", "--name", "ICICI"]).status(1);
    assert!(out.stderr.contains("V9__gate_unsafe") && out.stderr.contains("row level security"), "{}", out.stderr);
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'icici'"), "0");
    assert_eq!(db.catalog(), before);
}

#[test]
fn check_tenant_sees_what_the_tenants_own_transaction_did() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO);
    db.provision().in_workspace(&ws).arg("up").success();
    let blueprint = provision::Blueprint::load(&support::repo().join("templates"), "agent_mitra").unwrap();
    let lic = provision::TenantCode::parse("lic").unwrap();
    let target = provision::resolve(Some(&db.url), &|_| None).unwrap().expect("a target");
    support::runtime().block_on(async {
        let mut client = target.connect().await.unwrap();
        let tx = client.transaction().await.unwrap();
        provision::check_tenant(&tx, &lic, &blueprint).await.expect("a freshly built tenant is clean");
        tx.batch_execute("ALTER TABLE lic_schema.agents NO FORCE ROW LEVEL SECURITY").await.unwrap();
        let error = provision::check_tenant(&tx, &lic, &blueprint).await.unwrap_err().to_string();
        assert!(error.contains("lic_schema.agents") && error.contains("row level security"), "{error}");
        tx.rollback().await.unwrap();
        let tx = client.transaction().await.unwrap();
        tx.batch_execute("GRANT SELECT ON lic_schema.policyholders TO hdfc_app").await.unwrap();
        let error = provision::check_tenant(&tx, &lic, &blueprint).await.unwrap_err().to_string();
        assert!(error.contains("lic_schema.policyholders") && error.contains("hdfc_app"), "{error}");
        tx.rollback().await.unwrap();
    });
    let forced = "SELECT relforcerowsecurity::text FROM pg_class WHERE oid = 'lic_schema.agents'::regclass";
    assert_eq!(db.scalar(forced), "true");
}

#[test]
fn a_new_tenant_walks_the_reference_once_per_blueprint_contents() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO);
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).success();
    let passes = "SELECT count(*)::text FROM provision.gate_passed WHERE blueprint = 'agent_mitra'";
    assert_eq!(db.scalar(passes), "1", "the first creation's walk is remembered");
    db.provision().in_workspace(&ws).args(["tenant", "add", "hdfc"]).success();
    assert_eq!(db.scalar(passes), "1", "one row per blueprint contents");
    // Changed contents miss the memory: a breach is still refused before
    // anything is touched.
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__gate_unsafe.sql.tera"),
        "CREATE TABLE {{ schema }}.gate_unsafe (id int PRIMARY KEY);\n",
    )
    .unwrap();
    let before = db.catalog();
    let out = db.provision().in_workspace(&ws).args(["tenant", "add", "icici", "--name", "ICICI"]).status(1);
    assert!(out.stderr.contains("V9__gate_unsafe") && out.stderr.contains("row level security"), "{}", out.stderr);
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'icici'"), "0");
    assert_eq!(db.catalog(), before);
    assert_eq!(db.scalar(passes), "1", "a refusal is never remembered");
}
