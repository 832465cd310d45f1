//! `up`, `migrate`, `status` and the `tenant` commands against a real
//! PostgreSQL, asserting on the catalog rather than on the tool's words.

mod support;

use support::{TestDb, Workspace};

const ONE_TENANT: &str = "[tenants.lic]\nname = \"LIC\"\n";

fn history(db: &TestDb, schema: &str) -> Vec<String> {
    db.strings(&format!("SELECT version || ' ' || name || ' ' || checksum || ' ' || applied_on FROM \"{schema}\".refinery_schema_history ORDER BY version"))
}

#[test]
fn up_twice_second_run_is_a_no_op() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    let first = db.provision().in_workspace(&ws).args(["--json", "up"]).success().json();
    assert_eq!(first["changed"], true);
    assert_eq!(first["created"], 3);
    for schema in ["lic_schema", "hdfc_schema", "icici_schema"] {
        assert_eq!(db.scalar(&format!("SELECT count(*)::text FROM pg_namespace WHERE nspname = '{schema}'")), "1");
    }
    let catalog = db.catalog();
    let shared_history = db.strings("SELECT version || applied_on FROM provision.refinery_schema_history ORDER BY 1");
    let lic_history = history(&db, "lic_schema");
    assert!(!lic_history.is_empty());

    let second = db.provision().in_workspace(&ws).args(["--json", "up"]).success().json();
    assert_eq!(second["changed"], false);
    assert_eq!(second["created"], 0);
    assert_eq!(second["upgraded"], 0);
    assert_eq!(db.catalog(), catalog, "second up changed the catalog");
    assert_eq!(
        db.strings("SELECT version || applied_on FROM provision.refinery_schema_history ORDER BY 1"),
        shared_history
    );
    assert_eq!(history(&db, "lic_schema"), lic_history);
    db.provision().in_workspace(&ws).arg("up").success().stdout_has("nothing to do");
}

#[test]
fn users_tenant_id_defaults_to_the_registered_uuid() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    db.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).success().stdout_has("created");
    let registered = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'lic'");
    let default = db.scalar(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
         WHERE d.adrelid = 'lic_schema.users'::regclass AND a.attname = 'tenant_id'",
    );
    assert!(default.contains(&registered), "default {default} lacks {registered}");
    assert_eq!(db.scalar("SELECT blueprint FROM shared.tenants WHERE tenant_code = 'lic'"), "agent_mitra");
}

#[test]
fn tenant_add_list_render_remove() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    db.provision().in_workspace(&ws).args(["tenant", "add", "hdfc"]).success();
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "sbi", "--name", "SBI Life", "--type", "insurance_provider"])
        .success();
    let list = db.provision().in_workspace(&ws).args(["--json", "tenant", "list"]).success().json();
    let codes: Vec<&str> = list["tenants"].as_array().unwrap().iter().map(|t| t["tenant"].as_str().unwrap()).collect();
    assert_eq!(codes, ["hdfc", "sbi"]);
    assert_eq!(list["declared_not_created"], serde_json::json!(["icici", "lic"]));
    db.provision().in_workspace(&ws).args(["tenant", "list"]).success().stdout_has("sbi_schema");

    let rendered = db.provision().in_workspace(&ws).args(["tenant", "render", "icici"]).success();
    assert!(rendered.stdout.contains("CREATE SCHEMA \"icici_schema\""));
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'icici_schema'"),
        "0",
        "render must not touch the database"
    );

    db.provision().in_workspace(&ws).args(["tenant", "remove", "sbi", "--keep-data"]).success();
    assert_eq!(db.scalar("SELECT status FROM shared.tenants WHERE tenant_code = 'sbi'"), "inactive");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'sbi_schema'"), "1");

    db.provision().in_workspace(&ws).args(["tenant", "remove", "hdfc"]).status(2).one_line_error().stderr_has("--yes");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'hdfc_schema'"), "1");
    db.provision().in_workspace(&ws).args(["tenant", "remove", "hdfc", "--yes"]).success();
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'hdfc_schema'"), "0");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'hdfc'"), "0");
    db.provision().in_workspace(&ws).args(["tenant", "remove", "hdfc", "--yes"]).status(2).one_line_error();
}

#[test]
fn rendered_sql_through_psql_builds_the_same_catalog_as_tenant_add() {
    let added = TestDb::new();
    let piped = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    added.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).success();
    piped.provision().in_workspace(&ws).arg("migrate").success();
    let sql = piped.provision().in_workspace(&ws).args(["tenant", "render", "lic"]).success().stdout;
    let script = ws.path().join("lic.sql");
    std::fs::write(&script, sql).unwrap();
    let psql = std::process::Command::new("psql")
        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", &piped.url, "-f"])
        .arg(&script)
        .output()
        .expect("psql is installed");
    assert!(psql.status.success(), "psql failed: {}", String::from_utf8_lossy(&psql.stderr));
    assert_eq!(added.catalog(), piped.catalog());
    let versions = |db: &TestDb| {
        db.strings(
            "SELECT version || ' ' || name || ' ' || checksum FROM lic_schema.refinery_schema_history ORDER BY version",
        )
    };
    assert_eq!(versions(&added), versions(&piped));
    // The history rows psql wrote are readable by refinery: `up` sees nothing to do.
    let again = piped.provision().in_workspace(&ws).args(["--json", "up"]).success().json();
    assert_eq!(again["changed"], false);
}

#[test]
fn dry_runs_change_nothing() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    let empty = db.catalog();
    db.provision().in_workspace(&ws).args(["migrate", "--dry-run"]).success().stdout_has("would apply");
    db.provision().in_workspace(&ws).args(["up", "--dry-run"]).success().stdout_has("would apply");
    db.provision().in_workspace(&ws).args(["tenant", "add", "lic", "--dry-run"]).success().stdout_has("would create");
    assert_eq!(db.catalog(), empty);
    db.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).success();
    let one = db.catalog();
    db.provision().in_workspace(&ws).args(["up", "--dry-run"]).success().stdout_has("would apply");
    db.provision().in_workspace(&ws).args(["tenant", "add", "hdfc", "--dry-run"]).success();
    assert_eq!(db.catalog(), one);
}

#[test]
fn a_template_failing_half_way_leaves_no_trace() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    let templates = ws.own_templates();
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__broken.sql.tera"),
        "CREATE TABLE {{ schema }}.half_done (id int);\nINSERT INTO {{ schema }}.no_such_table VALUES (1);\n",
    )
    .unwrap();
    db.provision().in_workspace(&ws).arg("migrate").success();
    let before = db.catalog();
    let out = db.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).status(1).one_line_error();
    assert!(
        out.stderr.contains("V9__broken") && out.stderr.contains("no_such_table") && out.stderr.contains("line 2"),
        "{}",
        out.stderr
    );
    assert_eq!(db.catalog(), before, "a failed tenant add left objects behind");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants"), "0");
}

#[test]
fn concurrent_adds_of_one_tenant_apply_once() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    db.provision().in_workspace(&ws).arg("migrate").success();
    let children: Vec<_> =
        (0..2).map(|_| db.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).spawn()).collect();
    let outcomes: Vec<support::Outcome> = children.into_iter().map(|c| c.wait_with_output().unwrap().into()).collect();
    let codes: Vec<i32> = outcomes.iter().map(|o| o.code).collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{outcomes:?}");
    let loser = outcomes.iter().find(|o| o.code != 0).unwrap();
    assert_eq!(loser.code, 1, "{loser:?}");
    assert!(loser.stderr.contains("already exists"), "{}", loser.stderr);
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'lic'"), "1");
    let versions = db.strings("SELECT version::text FROM lic_schema.refinery_schema_history");
    let mut unique = versions.clone();
    unique.dedup();
    assert_eq!(versions, unique);
}

#[test]
fn different_tenants_added_concurrently_both_succeed() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    let children: Vec<_> = ["lic", "hdfc"]
        .iter()
        .map(|code| db.provision().in_workspace(&ws).args(["tenant", "add", code]).spawn())
        .collect();
    for child in children {
        let out: support::Outcome = child.wait_with_output().unwrap().into();
        assert_eq!(out.code, 0, "{out:?}");
    }
    assert_eq!(db.strings("SELECT tenant_code FROM shared.tenants ORDER BY 1"), ["hdfc", "lic"]);
    // Same blueprint, same catalog: only the schema name (and the tenant UUID default) differ.
    let lic_id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'lic'");
    let hdfc_id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'hdfc'");
    let normal = |schema: &str, id: &str, code: &str| -> Vec<String> {
        let rows = db.schema_catalog(schema).into_iter();
        rows.map(|r| r.replace(id, "ID").replace(&format!("'{code}_audit_log'"), "'C_audit_log'")).collect()
    };
    let lic = normal("lic_schema", &lic_id, "lic");
    let hdfc = normal("hdfc_schema", &hdfc_id, "hdfc");
    assert!(lic.len() > 100, "{lic:?}");
    assert_eq!(lic, hdfc);
}

#[test]
fn status_reports_versions_and_pending() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    let templates = ws.own_templates();
    db.provision().in_workspace(&ws).arg("up").success();
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__extra.sql.tera"),
        // A well-formed later version: RLS and the tenant policies on its table (verify checks it).
        "CREATE TABLE {{ schema }}.extra (id int PRIMARY KEY);\n\
         ALTER TABLE {{ schema }}.extra ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\n\
         CREATE POLICY tenant_isolation ON {{ schema }}.extra AS RESTRICTIVE\n\
           USING (nullif(current_setting('app.tenant_id', true), '')::uuid = '{{ tenant_id }}'::uuid);\n\
         CREATE POLICY tenant_rows ON {{ schema }}.extra USING (true);\n",
    )
    .unwrap();
    let status = db.provision().in_workspace(&ws).args(["--json", "status"]).success().json();
    let lic = &status["tenants"][0];
    assert_eq!(lic["tenant"], "lic");
    assert_eq!(lic["pending"], serde_json::json!(["V9__extra"]));
    assert_eq!(status["shared"]["pending"], serde_json::json!([]));
    let up = db.provision().in_workspace(&ws).args(["--json", "up"]).success().json();
    assert_eq!(up["upgraded"], 1);
    assert_eq!(db.scalar("SELECT to_regclass('lic_schema.extra')::text"), "lic_schema.extra");
    assert_eq!(db.scalar("SELECT max(version)::text FROM lic_schema.refinery_schema_history"), "9");
}

#[test]
fn remove_refuses_while_portal_rows_reference_the_tenant() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    db.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).success();
    db.execute(
        "INSERT INTO portal.callback_requests (tenant_id, customer_id, description, customer_name, customer_phone, request_type) \
         SELECT tenant_id, gen_random_uuid(), 'call me', 'Priya', '+919800000001', 'policy_issue' FROM shared.tenants",
    );
    let before = db.catalog();
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "lic", "--yes"])
        .status(1)
        .one_line_error()
        .stderr_has("portal.callback_requests");
    assert_eq!(db.catalog(), before, "a refused remove changed the database");
}

#[test]
fn up_with_jobs_builds_tenants_in_parallel_and_verifies() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    let out = db.provision().in_workspace(&ws).args(["--json", "up", "--jobs", "3"]).success().json();
    assert_eq!(out["created"], 3);
    assert_eq!(out["verify"]["findings"], serde_json::json!([]));
    assert_eq!(db.strings("SELECT tenant_code FROM shared.tenants ORDER BY 1"), ["hdfc", "icici", "lic"]);
}

#[test]
fn administrator_password_is_a_bcrypt_hash_of_cost_12() {
    let db = TestDb::new();
    let ws = Workspace::new(ONE_TENANT);
    db.provision().in_workspace(&ws).args(["tenant", "add", "lic", "--admin-password", "Correct-Horse-9"]).success();
    let hash = db.scalar("SELECT password_hash FROM lic_schema.users WHERE email = 'admin@lic.example'");
    assert!(hash.starts_with("$2a$12$"), "{hash}");
    let matches = db.scalar(&format!("SELECT (crypt('Correct-Horse-9', '{hash}') = '{hash}')::text"));
    assert_eq!(matches, "true");
}

/// A LOGIN role of this test's own (roles are cluster-wide, tests run in parallel).
fn login_role(db: &TestDb, code: &str) -> String {
    let login = format!("{}_login", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD 'pw'"));
    db.provision().args(["tenant", "grant", code, &login]).success();
    login
}

/// What `login` sees of the tenant's users with the tenant's id set, or the error.
fn users_seen_by(db: &TestDb, login: &str, code: &str) -> Result<i64, String> {
    let id = db.scalar(&format!("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = '{code}'"));
    db.as_login(login, "pw", async |c| {
        c.batch_execute(&format!("SET app.tenant_id = '{id}'")).await.map_err(|e| format!("{e:?}"))?;
        let row = c.query_one(&format!("SELECT count(*) FROM {code}_schema.users"), &[]).await;
        row.map(|r| r.get::<_, i64>(0)).map_err(|e| e.as_db_error().map_or(e.to_string(), |d| d.message().to_owned()))
    })
}

#[test]
fn keep_data_takes_access_away_until_activate_brings_the_tenant_back() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.kda]\nname = \"KDA\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    let login = login_role(&db, "kda");
    assert_eq!(users_seen_by(&db, &login, "kda"), Ok(1));
    let before = db.catalog();

    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "kda", "--keep-data"])
        .success()
        .stdout_has("deactivated tenant kda")
        .stderr_has("still declared");
    assert_eq!(users_seen_by(&db, &login, "kda"), Err("permission denied for schema kda_schema".to_owned()));
    assert_eq!(db.scalar("SELECT status FROM shared.tenants WHERE tenant_code = 'kda'"), "inactive");
    let usage = "SELECT string_agg(r, ',' ORDER BY r) FROM unnest(ARRAY['kda_app', 'kda_ro']) r \
                 WHERE has_schema_privilege(r, 'kda_schema', 'USAGE')";
    assert_eq!(db.scalar(usage), "");
    let list = db.provision().in_workspace(&ws).args(["--json", "partitions", "list"]).success().json();
    assert_eq!(list["tables"], serde_json::json!([]), "rollover ignores an inactive tenant");
    let inactive = db.catalog();
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "kda"])
        .status(1)
        .stderr_has("`provision tenant activate kda` brings it back");
    assert_eq!(db.catalog(), inactive, "adding an inactive tenant changes nothing");

    db.provision().in_workspace(&ws).args(["tenant", "activate", "kda"]).success().stdout_has("activated tenant kda");
    assert_eq!(users_seen_by(&db, &login, "kda"), Ok(1));
    assert_eq!(db.scalar(usage), "kda_app,kda_ro");
    assert_eq!(db.scalar("SELECT status FROM shared.tenants WHERE tenant_code = 'kda'"), "active");
    assert_eq!(db.catalog(), before, "activation restores exactly what deactivation took");
    let list = db.provision().in_workspace(&ws).args(["--json", "partitions", "list"]).success().json();
    assert!(
        list["tables"].as_array().unwrap().iter().all(|t| t["tenant"] == "kda")
            && list["tables"] != serde_json::json!([])
    );
    let up = db.provision().in_workspace(&ws).args(["--json", "up"]).success().json();
    assert_eq!(up["tenants"][0]["tenant"], "kda", "up includes the tenant again");
    db.provision().in_workspace(&ws).arg("verify").success();
}

#[test]
fn remove_says_what_it_dropped_keeps_the_audit_log_and_warns_when_declared() {
    let db = TestDb::new();
    let other = TestDb::new();
    let ws = Workspace::new("[tenants.rma]\nname = \"A\"\n[tenants.rmb]\nname = \"B\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    let audit_rows = |code: &str| db.scalar(&format!("SELECT count(*)::text FROM audit.{code}_audit_log"));
    let (rows_a, rows_b) = (audit_rows("rma"), audit_rows("rmb"));
    assert_ne!(rows_a, "0");

    let out = db
        .provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "rma", "--yes", "--no-backup"])
        .success()
        .stdout_has("schema rma_schema and roles rma_owner, rma_app, rma_ro dropped")
        .stderr_has("rma is still declared");
    assert!(!out.stderr.contains("were kept"), "{}", out.stderr);
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'rma\\_%'"), "0");
    assert_eq!(audit_rows("rma"), rows_a, "the audit log outlives the tenant");

    // Another database of the cluster still uses rmb's roles: they stay, and the message says so.
    other.execute("CREATE TABLE held (id int); ALTER TABLE held OWNER TO rmb_owner");
    let out = db
        .provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "rmb", "--yes", "--no-backup"])
        .success()
        .stdout_has("schema rmb_schema dropped, roles rmb_owner, rmb_app, rmb_ro kept")
        .stderr_has("were kept");
    assert!(!out.stdout.contains("roles dropped"), "{}", out.stdout);
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'rmb\\_%'"), "3");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'rmb_schema'"), "0");
    assert_eq!(audit_rows("rmb"), rows_b);
    other.execute("DROP TABLE held");
}

#[test]
fn tenant_add_completes_another_incomplete_tenant() {
    // Issue 11: every `tenant add` first completes what an interrupted or
    // hand-broken tenant lacks (src/ops/completion.rs), whatever it adds.
    let db = TestDb::new();
    // Codes of its own: roles are cluster-wide.
    let ws = Workspace::new("[tenants.cplic]\nname = \"CP LIC\"\n[tenants.cphdfc]\nname = \"CP HDFC\"\n");
    db.provision().in_workspace(&ws).args(["tenant", "add", "cplic", "--no-verify"]).success();
    db.execute("DROP TRIGGER audit_row_change ON cplic_schema.agents");
    let trigger = "SELECT count(*)::text FROM pg_trigger WHERE tgrelid = 'cplic_schema.agents'::regclass \
                   AND tgname = 'audit_row_change' AND tgenabled <> 'D'";
    assert_eq!(db.scalar(trigger), "0");
    db.provision().in_workspace(&ws).args(["tenant", "add", "cphdfc", "--no-verify"]).success();
    assert_eq!(db.scalar(trigger), "1", "tenant add cphdfc did not complete cplic");
    assert_eq!(db.strings("SELECT tenant_code FROM shared.tenants ORDER BY 1"), ["cphdfc", "cplic"]);
}

/// A tenant that lost an object after it was built (here an audit trigger
/// someone dropped) is completed by `up`, and the line says what it lacked
/// rather than guessing that a run was interrupted.
#[test]
fn up_names_what_an_incomplete_tenant_lacked_and_puts_it_back() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lacks]\nname = \"Lacks\"\nblueprint = \"agent_mitra\"\n");
    db.provision().in_workspace(&ws).args(["up", "--no-verify"]).success();
    let triggers = "SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'lacks_schema.agents'::regclass AND NOT tgisinternal ORDER BY 1";
    let before = db.strings(triggers);
    db.execute("DROP TRIGGER audit_row_change ON lacks_schema.agents");
    let version = db.scalar("SELECT max(version)::text FROM lacks_schema.refinery_schema_history");
    db.provision()
        .in_workspace(&ws)
        .args(["up", "--no-verify"])
        .success()
        .stdout_has(&format!("completed at version {version}: it lacked audit trigger on lacks_schema.agents"));
    assert_eq!(db.strings(triggers), before);
}
