//! Tenants placed across several PostgreSQL servers (`[servers.*]`):
//! placement, fan-out of fleet commands with one server stopped, verify
//! across servers, and the mistakes a DBA can make in tenants.toml.
//! Every assertion reads the servers' registries and catalogs.

mod support;

use support::servers::Fleet;
use support::Workspace;

/// tenants.toml for `fleet` with `tenants` (TOML of `[tenants.*]` tables).
fn workspace(fleet: &Fleet, tenants: &str) -> Workspace {
    Workspace::new(&format!("{}\n{tenants}", fleet.servers_toml()))
}

fn relations(server: &support::servers::FleetServer) -> i64 {
    server.scalar("SELECT count(*)::text FROM pg_class").parse().unwrap()
}

#[test]
fn up_places_named_tenants_on_their_server_and_new_ones_on_the_server_with_fewest_relations() {
    let fleet = Fleet::shared(2);
    let ws =
        workspace(&fleet, "[tenants.pl_one]\nname = \"One\"\nserver = \"b\"\n\n[tenants.pl_two]\nname = \"Two\"\n");
    fleet.provision(&ws).args(["up", "--no-verify"]).success();
    // pl_one is declared for b. pl_two names none: b then holds pl_one and a
    // has fewer relations, so pl_two goes to a.
    assert_eq!(fleet.server("b").registered(), ["pl_one"]);
    assert_eq!(fleet.server("a").registered(), ["pl_two"]);
    assert_eq!(
        fleet.server("a").scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'pl_two_schema'"),
        "1"
    );

    // A new tenant goes to the server with fewer relations; --dry-run says
    // which and why, and creates nothing.
    let (a, b) = (relations(fleet.server("a")), relations(fleet.server("b")));
    let least = if a <= b { "a" } else { "b" };
    let out = fleet.provision(&ws).args(["tenant", "add", "pl_three", "--name", "Three", "--dry-run"]).success();
    assert!(
        out.stdout
            .starts_with(&format!("tenant pl_three goes to server {least}: the fewest relations (a {a}, b {b})\n")),
        "{}",
        out.stdout
    );
    assert_eq!(fleet.server("a").registered(), ["pl_two"]);
    fleet.provision(&ws).args(["tenant", "add", "pl_three", "--name", "Three", "--no-verify"]).success();
    assert!(fleet.server(least).registered().contains(&"pl_three".to_owned()));

    // Running up again changes nothing anywhere: the registries are the truth.
    let before: Vec<Vec<String>> = fleet.servers.iter().map(|s| s.strings(CATALOG)).collect();
    fleet.provision(&ws).args(["up", "--no-verify"]).success();
    let after: Vec<Vec<String>> = fleet.servers.iter().map(|s| s.strings(CATALOG)).collect();
    assert_eq!(before, after);
}

/// Schemas and relations, for "nothing changed" on a server.
const CATALOG: &str =
    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1";

#[test]
fn a_stopped_server_does_not_stop_the_others_and_the_run_exits_3_naming_it() {
    let fleet = Fleet::private(2);
    let ws = workspace(
        &fleet,
        "[tenants.so_a]\nname = \"A\"\nserver = \"a\"\n\n[tenants.so_b]\nname = \"B\"\nserver = \"b\"\n",
    );
    fleet.provision(&ws).args(["up", "--no-verify"]).success();
    fleet.cluster(1).stop();
    ws.write_config(&format!(
        "{}\n[tenants.so_a]\nname = \"A\"\nserver = \"a\"\n\n[tenants.so_b]\nname = \"B\"\nserver = \"b\"\n\n\
         [tenants.so_c]\nname = \"C\"\nserver = \"a\"\n",
        fleet.servers_toml()
    ));
    let out = fleet.provision(&ws).args(["--json", "up", "--no-verify"]).status(3);
    // The reachable server's work is committed.
    assert_eq!(fleet.server("a").registered(), ["so_a", "so_c"]);
    let document = out.json();
    let servers = document["servers"].as_array().unwrap();
    assert_eq!(servers[0]["server"], "a");
    assert_eq!(servers[0]["outcome"], "ok");
    assert_eq!(servers[1]["server"], "b");
    assert_eq!(servers[1]["outcome"], "unreachable");
    assert!(out.stderr.contains("error: server b unreachable: "), "{}", out.stderr);

    // status reports a's tenants and names b.
    let out = fleet.provision(&ws).args(["status"]).status(3);
    assert!(out.stdout.contains("[a] ") && out.stdout.contains("so_c"), "{}", out.stdout);
    assert!(out.stdout.ends_with("2 servers: a ok, b unreachable\n"), "{}", out.stdout);

    // A new tenant that names no server is not placed while b is down: b may hold it.
    ws.write_config(&format!("{}\n[tenants.so_new]\nname = \"N\"\n", fleet.servers_toml()));
    let out = fleet.provision(&ws).args(["up", "--no-verify"]).status(3);
    assert!(out.stderr.contains("tenant so_new is on no reachable server and cannot be placed while b is unreachable"));
    assert_eq!(fleet.server("a").registered(), ["so_a", "so_c"]);

    fleet.cluster(1).start_again();
    fleet.provision(&ws).args(["up", "--no-verify"]).success();
    let all: Vec<String> = fleet.servers.iter().flat_map(|s| s.registered()).collect();
    assert_eq!(all.iter().filter(|c| *c == "so_new").count(), 1, "{all:?}");
}

#[test]
fn verify_runs_on_every_server_and_a_drift_fails_naming_the_server_and_the_tenant() {
    let fleet = Fleet::shared(2);
    let ws = workspace(
        &fleet,
        "[tenants.vf_a]\nname = \"A\"\nserver = \"a\"\n\n[tenants.vf_b]\nname = \"B\"\nserver = \"b\"\n",
    );
    fleet.provision(&ws).args(["up"]).success();
    fleet.provision(&ws).args(["verify"]).success();
    fleet.server("b").execute("ALTER TABLE vf_b_schema.users DISABLE ROW LEVEL SECURITY");
    let out = fleet.provision(&ws).args(["verify"]).status(1);
    // One error line naming the server and the tenant.
    let error = out.stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("error: server b: verify: 2 problems in vf_b ("), "{}", out.stderr);
    assert!(out.stdout.contains("[b] vf_b: rls row level security is not ENABLEd and FORCEd"), "{}", out.stdout);
    assert!(out.stdout.ends_with("2 servers: a ok, b failed\n"), "{}", out.stdout);
    // --server narrows the run: a alone is clean.
    fleet.provision(&ws).args(["--server", "a", "verify"]).success();
}

#[test]
fn a_tenant_found_on_another_server_than_declared_stays_there_and_is_reported() {
    let fleet = Fleet::shared(2);
    let ws = workspace(&fleet, "[tenants.mp_x]\nname = \"X\"\nserver = \"a\"\n");
    fleet.provision(&ws).args(["up", "--no-verify"]).success();
    ws.write_config(&format!("{}\n[tenants.mp_x]\nname = \"X\"\nserver = \"b\"\n", fleet.servers_toml()));
    let out = fleet.provision(&ws).args(["--json", "status"]).success();
    assert_eq!(out.json()["misplaced"], serde_json::json!([{ "tenant": "mp_x", "declared": "b", "found": "a" }]));
    assert!(out.stderr.contains("tenant mp_x is declared for server b but found on a"), "{}", out.stderr);
    fleet.provision(&ws).args(["up", "--no-verify"]).success();
    assert_eq!(fleet.server("b").registered(), Vec::<String>::new());
    assert_eq!(fleet.server("a").registered(), ["mp_x"]);
}

#[test]
fn tenants_toml_mistakes_about_servers_are_bad_input_and_change_nothing() {
    let fleet = Fleet::shared(2);
    let ws = workspace(&fleet, "[tenants.bi_x]\nname = \"X\"\nserver = \"c\"\n");
    let out = fleet.provision(&ws).args(["up"]).status(2).one_line_error();
    assert!(out.stderr.contains("server: \"c\" is not declared; use one of a, b"), "{}", out.stderr);

    let ws = workspace(&fleet, "[tenants.bi_x]\nname = \"X\"\n");
    let out = fleet.provision(&ws).env_remove("B_DATABASE_URL").args(["up"]).status(2).one_line_error();
    assert_eq!(
        out.stderr,
        "error: server b: the variable B_DATABASE_URL is not set; export it with the server's postgresql:// URL\n"
    );
    let out = fleet.provision(&ws).args(["--server", "z", "status"]).status(2).one_line_error();
    assert!(out.stderr.contains("server \"z\" is not declared in tenants.toml; use one of a, b"), "{}", out.stderr);

    let ws = Workspace::new("[servers.a]\nurl_env = \"postgres://u:pw@h/db\"\n");
    let out = fleet.provision(&ws).args(["status"]).status(2).one_line_error();
    assert!(!out.stderr.contains("pw@"), "{}", out.stderr);
    for server in &fleet.servers {
        assert_eq!(server.registered(), Vec::<String>::new());
    }
}

#[test]
fn the_template_gate_runs_once_for_the_fleet_and_an_unsafe_version_reaches_no_server() {
    let fleet = Fleet::shared(2);
    let ws = workspace(
        &fleet,
        "[tenants.gt_a]\nname = \"A\"\nserver = \"a\"\n\n[tenants.gt_b]\nname = \"B\"\nserver = \"b\"\n",
    );
    let templates = ws.own_templates();
    fleet.provision(&ws).args(["up", "--no-verify"]).success();
    let unsafe_version = "CREATE TABLE {{ schema }}.gate_unsafe (id int PRIMARY KEY, note text);\n";
    std::fs::write(templates.join("agent_mitra/tenant/V9__gate_unsafe.sql.tera"), unsafe_version).unwrap();
    let before: Vec<Vec<String>> = fleet.servers.iter().map(|s| s.strings(CATALOG)).collect();
    for command in [&["up"][..], &["tenant", "upgrade", "--all"][..]] {
        let out = fleet.provision(&ws).args(command).status(1).one_line_error();
        // One refusal for the fleet, before any server's part ran.
        assert!(out.stderr.contains("V9__gate_unsafe") && out.stderr.contains("row level security"), "{}", out.stderr);
        assert!(!out.stdout.contains("[a]") && !out.stdout.contains("[b]"), "{}", out.stdout);
        let after: Vec<Vec<String>> = fleet.servers.iter().map(|s| s.strings(CATALOG)).collect();
        assert_eq!(before, after, "{command:?} changed a server although the gate refused");
    }
    let safe = "ALTER TABLE {{ schema }}.users ADD COLUMN gate_note text;\n";
    std::fs::remove_file(templates.join("agent_mitra/tenant/V9__gate_unsafe.sql.tera")).unwrap();
    std::fs::write(templates.join("agent_mitra/tenant/V9__gate_note.sql.tera"), safe).unwrap();
    fleet.provision(&ws).args(["tenant", "upgrade", "--all"]).success();
    for (server, code) in [("a", "gt_a"), ("b", "gt_b")] {
        let sql = format!("SELECT max(version)::text FROM {code}_schema.refinery_schema_history");
        assert_eq!(fleet.server(server).scalar(&sql), "9");
    }
}

#[test]
fn a_server_given_as_a_libpq_service_is_reached_through_pg_service_conf() {
    let fleet = Fleet::shared(2);
    let b = fleet.server("b");
    let query = b.url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let host = query.split('&').find_map(|kv| kv.strip_prefix("host=")).expect("a socket directory");
    let ws = Workspace::new(
        "[servers.a]\nurl_env = \"A_DATABASE_URL\"\n[servers.b]\nservice = \"fleet_b\"\n\n\
         [tenants.svc_b]\nname = \"B\"\nserver = \"b\"\n",
    );
    let services = ws.path().join("pg_service.conf");
    std::fs::write(&services, format!("[fleet_b]\nhost={host}\nport=5432\ndbname={}\nuser=postgres\n", b.db)).unwrap();
    fleet.provision(&ws).env("PGSERVICEFILE", &services).args(["up", "--no-verify"]).success();
    assert_eq!(b.registered(), ["svc_b"]);
    assert_eq!(fleet.server("a").registered(), Vec::<String>::new());
}

#[test]
fn server_flag_places_a_declared_tenant_that_names_no_server() {
    let fleet = Fleet::shared(2);
    let ws = workspace(&fleet, "[tenants.pl_flag]\nname = \"Flag\"\n");
    // Ask for the server placement's own rule would not pick.
    let (a, b) = (relations(fleet.server("a")), relations(fleet.server("b")));
    let other = if a <= b { "b" } else { "a" };
    fleet.provision(&ws).args(["--server", other, "tenant", "add", "pl_flag", "--no-verify"]).success();
    assert!(fleet.server(other).registered().contains(&"pl_flag".to_owned()));
    let least = if other == "a" { "b" } else { "a" };
    assert!(!fleet.server(least).registered().contains(&"pl_flag".to_owned()));
}
