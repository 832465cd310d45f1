//! `tenant move` between two servers of a test fleet (tests/support/servers.rs):
//! a live move with an application writing all along (nothing lost or
//! duplicated: counts and checksums), a move killed at every failpoint
//! (the source stays usable; a re-run finishes it, `--abort` removes every
//! trace, both compared with an uninterrupted move), and `--offline`.
//!
//! The moves of this binary run one at a time ([`SERIAL`]): they share two
//! clusters, and each takes replication slots and workers there.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use support::access::PASSWORD;
use support::servers::{Fleet, FleetServer};
use support::{Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A workspace declaring the fleet's servers, and tenant `code` created on
/// server a with some rows in a plain table, a partitioned one and the
/// audit log.
fn tenant_on_a(fleet: &Fleet, code: &str) -> Workspace {
    let ws = Workspace::new(&fleet.servers_toml());
    let a = fleet.server("a");
    Run::new().in_workspace(&ws).args(["--database-url", &a.url, "tenant", "add", code, "--name", code]).success();
    a.execute(&format!(
        "INSERT INTO {code}_schema.user_events (event_type, \"timestamp\") \
         SELECT 'seed', localtimestamp - g * interval '1 hour' FROM generate_series(1, 40) AS g;
         INSERT INTO {code}_schema.roles (role_name, role_description) SELECT 'r' || g, 'seed' FROM generate_series(1, 5) AS g"
    ));
    ws
}

fn move_run(fleet: &Fleet, ws: &Workspace, code: &str, extra: &[&str]) -> Run {
    fleet.provision(ws).args(["tenant", "move", code, "--to", "b"]).args(extra)
}

/// Rows and checksum of every table of the tenant (schema and audit log) on one server.
fn contents(server: &FleetServer, code: &str) -> Vec<String> {
    server.strings(&format!(
        "SELECT c.oid::regclass::text || ' ' || (xpath('/row/x/text()', query_to_xml(format( \
           'SELECT count(*) || '':'' || coalesce(sum(hashtextextended(r::text, 0)), 0) AS x FROM %s r', c.oid::regclass), \
           false, true, '')))[1]::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
           AND (n.nspname = '{code}_schema' OR (n.nspname = 'audit' AND c.relname = '{code}_audit_log')) \
         ORDER BY 1"
    ))
}

/// Every sequence of the tenant (schema and audit log) with its position.
fn sequences(server: &FleetServer, code: &str) -> Vec<String> {
    server.strings(&format!(
        "SELECT c.oid::regclass::text || ' ' || coalesce(pg_sequence_last_value(c.oid)::text, 'unused') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'S' AND (n.nspname = '{code}_schema' OR c.relname LIKE '{code}\\_audit\\_log%') ORDER BY 1"
    ))
}

/// What a move may leave behind on a server: publications, subscriptions,
/// slots, the tenant's schema and audit log, its registry entry and move row.
fn traces(server: &FleetServer, code: &str) -> Vec<String> {
    server.strings(&format!(
        "SELECT 'publication ' || pubname FROM pg_publication \
         UNION ALL SELECT 'subscription ' || subname FROM pg_subscription s \
           JOIN pg_database d ON d.oid = s.subdbid AND d.datname = current_database() \
         UNION ALL SELECT 'slot ' || slot_name FROM pg_replication_slots WHERE database = current_database() \
         UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = '{code}_schema' \
         UNION ALL SELECT 'audit log ' || relname FROM pg_class WHERE oid = to_regclass('audit.{code}_audit_log') \
         UNION ALL SELECT 'registry ' || status FROM shared.tenants WHERE tenant_code = '{code}' \
         UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname IN ('{code}_owner', '{code}_app', '{code}_ro') \
         UNION ALL SELECT 'move ' || step || CASE WHEN finished_at IS NULL THEN ' unfinished' ELSE '' END \
           FROM shared.tenant_moves WHERE tenant_code = '{code}' \
         ORDER BY 1"
    ))
}

#[test]
fn a_live_move_keeps_every_row_and_switches_the_registries() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mv1");
    let before = contents(a, "mv1");
    let out = move_run(&fleet, &ws, "mv1", &["--json"]).success();
    let doc = out.json();
    assert_documented(&doc);
    assert_eq!(doc["outcome"], "moved", "{doc}");
    assert_eq!((doc["from"].as_str(), doc["to"].as_str()), (Some("a"), Some("b")));
    let steps = ["provisioned", "published", "subscribed", "caught_up", "switched", "cleaned", "done"];
    assert_eq!(doc["steps"], serde_json::json!(steps));
    eprintln!("freeze of a small tenant: {} ms", doc["freeze_ms"]);
    assert_eq!(contents(b, "mv1"), before);
    assert_eq!(traces(a, "mv1"), ["move done", "registry moved"]);
    assert_eq!(
        traces(b, "mv1"),
        [
            "audit log mv1_audit_log",
            "registry active",
            "role mv1_app",
            "role mv1_owner",
            "role mv1_ro",
            "schema mv1_schema"
        ]
    );
    let backup = doc["backup"]["file"].as_str().expect("a backup");
    assert!(ws.path().join(backup).is_file() || std::path::Path::new(backup).is_file(), "{backup}");
    // A re-run has nothing left to do; both servers verify clean, the moved entry included.
    move_run(&fleet, &ws, "mv1", &[]).stdout("tenant mv1 is already on server b; nothing to move\n").success();
    for server in [a, b] {
        Run::new().in_workspace(&ws).args(["--database-url", &server.url, "verify"]).success();
        Run::new().in_workspace(&ws).args(["--database-url", &server.url, "status"]).success();
    }
    // And back: the moved entry on a gives way to the tenant coming home.
    fleet.provision(&ws).args(["tenant", "move", "mv1", "--to", "a", "--keep-source"]).success();
    assert_eq!(contents(a, "mv1"), before);
    assert_eq!(a.scalar("SELECT status::text FROM shared.tenants WHERE tenant_code = 'mv1'"), "active");
    assert_eq!(b.scalar("SELECT status::text FROM shared.tenants WHERE tenant_code = 'mv1'"), "moved");
}

/// The document has exactly the keys of docs/json.md's `tenant_move` shape,
/// with values of their types (tests/json_schema.rs checks the other shapes).
fn assert_documented(doc: &serde_json::Value) {
    let text = std::fs::read_to_string(support::repo().join("docs/json.md")).unwrap();
    let body = text.split("```json shape=tenant_move\n").nth(1).and_then(|t| t.split("```").next()).expect("the shape");
    let shape: serde_json::Value = serde_json::from_str(body).unwrap();
    let (shape, doc) = (shape.as_object().unwrap(), doc.as_object().expect("an object"));
    let mut keys: Vec<&String> = doc.keys().collect();
    let mut documented: Vec<&String> = shape.keys().collect();
    keys.sort();
    documented.sort();
    assert_eq!(keys, documented);
    for (key, types) in shape {
        let value = &doc[key];
        let fits = |t: &str| match t {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "null" => value.is_null(),
            _ => false,
        };
        let ok = match types {
            serde_json::Value::String(types) => types.split('|').any(fits),
            _ => value.as_array().is_some_and(|items| items.iter().all(|v| v.is_string())),
        };
        assert!(ok, "{key}: {value} is not {types}");
    }
}

/// A LOGIN role on server a granted `<code>_app` there (`tenant grant`).
fn app_login_on_a(fleet: &Fleet, ws: &Workspace, code: &str) -> String {
    let a = fleet.server("a");
    let login = format!("login_{}_{code}", a.db);
    a.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    Run::new().in_workspace(ws).args(["--database-url", &a.url, "tenant", "grant", code, &login]).success();
    login
}

/// Connects to the database at `url` as `login`.
async fn connect_as(url: &str, login: &str) -> tokio_postgres::Client {
    let url = support::with_user(url, login, PASSWORD);
    let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
    target.connect().await.expect("connect as the login")
}

/// One insert as the application does it: its tenant id set for the transaction.
async fn app_insert(
    client: &tokio_postgres::Client,
    tenant_id: &str,
    marker: &str,
) -> Result<(), tokio_postgres::Error> {
    let code = marker.split('-').next().unwrap_or_default();
    let sql = format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{tenant_id}', true); \
         INSERT INTO {code}_schema.user_events (event_type, \"timestamp\") VALUES ('{marker}', localtimestamp); COMMIT"
    );
    let result = client.batch_execute(&sql).await;
    if result.is_err() {
        client.batch_execute("ROLLBACK").await.expect("end the failed transaction");
    }
    result
}

#[test]
fn a_move_with_an_application_writing_loses_and_duplicates_nothing() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mv2");
    let login = app_login_on_a(&fleet, &ws, "mv2");
    let tenant_id = a.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'mv2'");
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let writer = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        let (url, login, tenant_id) = (a.url.clone(), login.clone(), tenant_id.clone());
        std::thread::spawn(move || {
            support::runtime().block_on(async {
                let client = connect_as(&url, &login).await;
                let mut n = 0u64;
                // Until the move is over, and 20 more after it (those fail: the source is read-only now).
                let mut after = 0;
                while after < 20 {
                    n += 1;
                    match app_insert(&client, &tenant_id, &format!("mv2-{n}")).await {
                        Ok(()) => ok.fetch_add(1, Ordering::SeqCst),
                        Err(_) => failed.fetch_add(1, Ordering::SeqCst),
                    };
                    if stop.load(Ordering::SeqCst) {
                        after += 1;
                    }
                }
            })
        })
    };
    while ok.load(Ordering::SeqCst) < 50 {
        std::thread::yield_now();
    }
    let out = move_run(&fleet, &ws, "mv2", &["--keep-source", "--json"]).success();
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let (ok, failed) = (ok.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    let doc = out.json();
    eprintln!(
        "application inserts: {ok} succeeded, {failed} failed (after the switch, on the read-only source); \
         writes frozen {} ms",
        doc["freeze_ms"]
    );
    assert_documented(&doc);
    assert_eq!(doc["outcome"], "moved", "{doc}");
    assert_eq!(doc["logins_missing"], serde_json::json!([login]), "{doc}");
    let written = "SELECT count(*)::text || ' ' || count(DISTINCT event_type)::text FROM mv2_schema.user_events \
                   WHERE event_type LIKE 'mv2-%'";
    assert_eq!(b.scalar(written), format!("{ok} {ok}"), "every insert that succeeded is on the target once");
    assert_eq!(contents(b, "mv2"), contents(a, "mv2"), "the target equals the source's final (kept) copy");

    assert!(failed >= 20, "the inserts after the switch fail on the source ({failed})");
}

#[test]
fn an_offline_move_copies_with_pg_dump_and_keeps_a_read_only_source() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mv3");
    let login = app_login_on_a(&fleet, &ws, "mv3");
    let before = contents(a, "mv3");
    let doc = move_run(&fleet, &ws, "mv3", &["--offline", "--keep-source", "--json"]).success().json();
    assert_eq!(doc["outcome"], "moved", "{doc}");
    assert_eq!(contents(b, "mv3"), before);
    assert_eq!(contents(a, "mv3"), before);
    let roles = ["role mv3_app", "role mv3_owner", "role mv3_ro"];
    let kept =
        [&["audit log mv3_audit_log", "move done", "registry moved"][..], &roles, &["schema mv3_schema"]].concat();
    assert_eq!(traces(a, "mv3"), kept);
    assert_eq!(
        traces(b, "mv3"),
        [&["audit log mv3_audit_log", "registry active"][..], &roles, &["schema mv3_schema"]].concat()
    );
    // The source is read-only for the application now.
    let tenant_id = a.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'mv3'");
    let refused = support::runtime().block_on(async {
        let client = connect_as(&a.url, &login).await;
        app_insert(&client, &tenant_id, "mv3-late").await.map_err(|e| e.code().cloned())
    });
    assert_eq!(refused, Err(Some(tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)));
}

/// Every failpoint of a move, in the order a move reaches them.
fn move_points() -> Vec<&'static str> {
    provision::failpoint::ALL.iter().copied().filter(|p| p.starts_with("tenant_move.")).collect()
}

/// Before the switch the source is authoritative.
fn before_switch(point: &str) -> bool {
    !matches!(point, "tenant_move.after_switch" | "tenant_move.after_cleanup")
}

/// One server's state of tenant `code` with the code replaced by `X` and
/// UUIDs masked, so two tenants' moves compare: traces, rows per table, and
/// the catalog of the schema and audit log.
fn normalized(server: &FleetServer, code: &str) -> Vec<String> {
    let catalog = include_str!("sql/catalog_snapshot.sql").trim_end().trim_end_matches(';').to_owned();
    let objects = server.strings(&format!(
        "SELECT x FROM ({catalog}) s(x) WHERE x LIKE '{code}\\_schema.%' OR x LIKE 'audit.{code}\\_audit\\_log%'"
    ));
    let rows = contents(server, code).into_iter().map(|r| r.split(':').next().unwrap_or_default().to_owned());
    let uuid = regex::Regex::new("[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}").unwrap();
    let mut all: Vec<String> = traces(server, code)
        .into_iter()
        .chain(rows)
        .chain(objects)
        .map(|line| uuid.replace_all(&line.replace(code, "X"), "<uuid>").into_owned())
        .collect();
    all.sort();
    all
}

/// The tenant is fully usable on server a: registered active, its rows
/// readable and a write through the application's login accepted (rolled
/// back, so the row counts stay comparable).
fn assert_usable_on_a(fleet: &Fleet, code: &str, login: &str) {
    let a = fleet.server("a");
    assert_eq!(a.scalar(&format!("SELECT status::text FROM shared.tenants WHERE tenant_code = '{code}'")), "active");
    let tenant_id = a.scalar(&format!("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = '{code}'"));
    support::runtime().block_on(async {
        let client = connect_as(&a.url, login).await;
        let sql = format!(
            "BEGIN; SELECT set_config('app.tenant_id', '{tenant_id}', true); \
             INSERT INTO {code}_schema.user_events (event_type, \"timestamp\") VALUES ('probe', localtimestamp)"
        );
        client.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{code}: the application cannot write on a: {e:?}"));
        let seen = client.query_one(&format!("SELECT count(*) FROM {code}_schema.user_events"), &[]).await.unwrap();
        assert!(seen.get::<_, i64>(0) > 40, "{code}: the application reads its rows");
        client.batch_execute("ROLLBACK").await.unwrap();
    });
}

/// Runs the move armed to die at `point`; the run must abort there.
fn killed_at(fleet: &Fleet, ws: &Workspace, code: &str, point: &str) {
    let out = move_run(fleet, ws, code, &[]).env(provision::failpoint::VARIABLE, point).output();
    assert_ne!(out.code, 0, "{point}: the move was not killed:\n{}", out.stderr);
    assert!(out.stderr.contains(&format!("failpoint {point}: aborting")), "{point}:\n{}", out.stderr);
}

#[test]
fn a_move_killed_at_every_step_is_finished_by_a_rerun_or_undone_by_abort() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mvref");
    app_login_on_a(&fleet, &ws, "mvref");
    move_run(&fleet, &ws, "mvref", &[]).success();
    let expected = (normalized(a, "mvref"), normalized(b, "mvref"));
    assert!(
        expected.1.len() > 200 && expected.1.iter().any(|l| l.starts_with("X_schema.users col")),
        "{:?}",
        expected.1
    );
    let points = move_points();
    assert_eq!(points.len(), 6, "{points:?}");
    for (i, point) in points.iter().enumerate() {
        // A re-run finishes the move.
        let code = format!("mvr{i}");
        let ws = tenant_on_a(&fleet, &code);
        let login = app_login_on_a(&fleet, &ws, &code);
        killed_at(&fleet, &ws, &code, point);
        if before_switch(point) {
            assert_usable_on_a(&fleet, &code, &login);
            // A copy being filled (`moving`, or not yet registered) makes no server's verify fail.
            for server in [a, b] {
                Run::new().in_workspace(&ws).args(["--database-url", &server.url, "verify"]).success();
            }
        } else {
            assert_eq!(
                b.scalar(&format!("SELECT status::text FROM shared.tenants WHERE tenant_code = '{code}'")),
                "active"
            );
        }
        move_run(&fleet, &ws, &code, &[]).success();
        assert_eq!((normalized(a, &code), normalized(b, &code)), expected, "{point}: re-run");

        // --abort undoes it (before the switch) or refuses (after it).
        let code = format!("mva{i}");
        let ws = tenant_on_a(&fleet, &code);
        let login = app_login_on_a(&fleet, &ws, &code);
        let before = contents(a, &code);
        killed_at(&fleet, &ws, &code, point);
        if before_switch(point) {
            move_run(&fleet, &ws, &code, &["--abort"]).success();
            let roles = [format!("role {code}_app"), format!("role {code}_owner"), format!("role {code}_ro")];
            let kept = [
                vec![format!("audit log {code}_audit_log"), "registry active".to_owned()],
                roles.to_vec(),
                vec![format!("schema {code}_schema")],
            ]
            .concat();
            assert_eq!(traces(a, &code), kept, "{point}: abort leaves the source as it was");
            assert_eq!(traces(b, &code), Vec::<String>::new(), "{point}: abort leaves nothing on the target");
            assert_eq!(contents(a, &code), before, "{point}");
            assert_usable_on_a(&fleet, &code, &login);
        } else {
            let refused = move_run(&fleet, &ws, &code, &["--abort"]).status(1);
            assert!(refused.stderr.contains("is past its switch"), "{point}:\n{}", refused.stderr);
            move_run(&fleet, &ws, &code, &[]).success();
            assert_eq!((normalized(a, &code), normalized(b, &code)), expected, "{point}: re-run after a refused abort");
        }
    }
}

#[test]
fn a_freeze_past_max_freeze_is_rolled_back_and_the_move_aborted() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mv4");
    let login = app_login_on_a(&fleet, &ws, "mv4");
    let before = (contents(a, "mv4"), traces(a, "mv4"));
    // A writer's lock the freeze must wait for, in a transaction without an xid
    // (so making the slot, which waits for running transactions, does not).
    let out = a.with(async |c| {
        c.batch_execute("BEGIN; LOCK TABLE mv4_schema.user_events IN ROW EXCLUSIVE MODE").await.unwrap();
        let out = move_run(&fleet, &ws, "mv4", &["--max-freeze", "0.5"]).status(1);
        c.batch_execute("ROLLBACK").await.unwrap();
        out
    });
    assert!(
        out.stderr.contains(
            "the write freeze reached --max-freeze (0.5 s) while locking the tenant's tables against writes; the move \
             was rolled back and aborted: tenant mv4 stays on server a, writable"
        ),
        "{}",
        out.stderr
    );
    assert_eq!((contents(a, "mv4"), traces(a, "mv4")), before);
    assert_eq!(traces(b, "mv4"), Vec::<String>::new());
    assert_usable_on_a(&fleet, "mv4", &login);
    move_run(&fleet, &ws, "mv4", &[]).success();
    assert_eq!(contents(b, "mv4"), before.0);
}

/// A tiny pack of the test's own whose tenant table takes its ids from an
/// identity column, beside a plain sequence (the shipped packs use UUIDs).
const COUNTERS: &str = "CREATE TABLE {{ schema }}.counters (
    counter_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tenant_id UUID NOT NULL DEFAULT '{{ tenant_id }}',
    label TEXT NOT NULL
);
CREATE SEQUENCE {{ schema }}.ticket_numbers;
ALTER TABLE {{ schema }}.counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE {{ schema }}.counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {{ schema }}.counters AS RESTRICTIVE FOR ALL
    USING (tenant_id = '{{ tenant_id }}'::uuid AND tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY counters_access ON {{ schema }}.counters FOR ALL USING (true);
";

#[test]
fn sequences_are_where_the_sources_were_at_the_switch() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = Workspace::new(&fleet.servers_toml());
    let pack = ws.own_templates().join("counters");
    std::fs::create_dir_all(pack.join("tenant")).unwrap();
    std::fs::write(pack.join("blueprint.toml"), "name = \"counters\"\ndescription = \"ids from sequences\"\n").unwrap();
    std::fs::write(pack.join("tenant/V1__counters.sql.tera"), COUNTERS).unwrap();
    let add = ["tenant", "add", "mv5", "--name", "mv5", "--blueprint", "counters"];
    Run::new().in_workspace(&ws).args(["--database-url", &a.url]).args(add).success();
    a.execute(
        "INSERT INTO mv5_schema.counters (label) SELECT 'c' || g FROM generate_series(1, 25) AS g;
         SELECT nextval('mv5_schema.ticket_numbers') FROM generate_series(1, 7)",
    );
    move_run(&fleet, &ws, "mv5", &["--keep-source"])
        .stdout_regex(concat!(
            r"moved tenant mv5 from server a to server b: 26 rows, writes frozen \d+ ms \(\d+ ms [a-z' ]+\), ",
            r"in [0-9.]+ s; the copy on server a is kept, read-only for mv5_app\n"
        ))
        .success();
    let positions = sequences(a, "mv5");
    assert_eq!(positions.len(), 2, "{positions:?}");
    assert_eq!(sequences(b, "mv5"), positions);
    assert_eq!(b.scalar("INSERT INTO mv5_schema.counters (label) VALUES ('after') RETURNING counter_id::text"), "26");
}

#[test]
fn a_tenant_another_process_works_on_is_not_moved() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mv6");
    let before = traces(a, "mv6");
    a.with(async |c| {
        support::begin_holding_tenant_lock(c, "mv6").await;
        move_run(&fleet, &ws, "mv6", &[]).status(3).one_line_error().stderr_has(
            "tenant mv6 is busy on server a: another provision process (a move, an upgrade, a rollover) holds its lock",
        );
        c.batch_execute("ROLLBACK").await.unwrap();
    });
    assert_eq!(traces(a, "mv6"), before);
    assert_eq!(b.registered(), Vec::<String>::new(), "nothing was provisioned on b");
}

#[test]
fn an_offline_move_killed_after_provisioning_is_finished_by_a_rerun() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mv7");
    let login = app_login_on_a(&fleet, &ws, "mv7");
    let before = contents(a, "mv7");
    let out = move_run(&fleet, &ws, "mv7", &["--offline"])
        .env(provision::failpoint::VARIABLE, "tenant_move.after_provision")
        .output();
    assert!(out.stderr.contains("failpoint tenant_move.after_provision: aborting"), "{}", out.stderr);
    assert_usable_on_a(&fleet, "mv7", &login);
    assert_eq!(
        traces(a, "mv7").iter().filter(|t| t.starts_with("move")).collect::<Vec<_>>(),
        ["move provisioned unfinished"]
    );
    // The re-run goes on offline, as recorded, without being told again.
    let doc = move_run(&fleet, &ws, "mv7", &["--json"]).success().json();
    assert_eq!(doc["resumed_from"], "provisioned", "{doc}");
    assert_eq!(doc["steps"], serde_json::json!(["switched", "cleaned", "done"]), "{doc}");
    assert_eq!(contents(b, "mv7"), before);
    assert_eq!(traces(a, "mv7"), ["move done", "registry moved"]);
}

#[test]
fn a_move_needs_declared_servers_and_a_sane_max_freeze() {
    let ws = Workspace::new("");
    Run::new()
        .in_workspace(&ws)
        .args(["tenant", "move", "lic", "--to", "b"])
        .status(2)
        .one_line_error()
        .stderr_has("tenant move needs the servers in tenants.toml: declare [servers.<name>]");
    let ws = Workspace::new("[servers.a]\nurl_env = \"A_URL\"\n[servers.b]\nurl_env = \"B_URL\"\n");
    let run = |args: &[&str]| Run::new().in_workspace(&ws).args(["tenant", "move", "lic"]).args(args.to_vec());
    run(&["--to", "b", "--max-freeze", "0"]).status(2).one_line_error().stderr_has("--max-freeze 0: give a number");
    run(&["--to", "c"]).status(2).one_line_error();
    run(&["--to", "b", "--abort", "--offline"]).status(2);
}
