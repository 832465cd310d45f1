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
    assert_eq!(doc["outcome"], "moved", "{doc}");
    assert_eq!((doc["from"].as_str(), doc["to"].as_str()), (Some("a"), Some("b")));
    eprintln!("freeze of a small tenant: {} ms", doc["freeze_ms"]);
    assert_eq!(contents(b, "mv1"), before);
    assert_eq!(traces(a, "mv1"), ["move done", "registry moved"]);
    assert_eq!(traces(b, "mv1"), ["audit log mv1_audit_log", "registry active", "schema mv1_schema"]);
    let backup = doc["backup"]["file"].as_str().expect("a backup");
    assert!(ws.path().join(backup).is_file() || std::path::Path::new(backup).is_file(), "{backup}");
    // A re-run has nothing left to do; both servers verify clean, the moved entry included.
    move_run(&fleet, &ws, "mv1", &[]).stdout("tenant mv1 is already on server b; nothing to move\n").success();
    for server in [a, b] {
        Run::new().in_workspace(&ws).args(["--database-url", &server.url, "verify"]).success();
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
async fn app_insert(client: &tokio_postgres::Client, tenant_id: &str, marker: &str) -> Result<(), tokio_postgres::Error> {
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
    eprintln!("application inserts: {ok} succeeded, {failed} failed (after the switch, on the read-only source)");
    let doc = out.json();
    assert_eq!(doc["outcome"], "moved", "{doc}");
    assert_eq!(doc["logins_missing"], serde_json::json!([login]), "{doc}");
    let written = format!("SELECT count(*)::text || ' ' || count(DISTINCT event_type)::text FROM mv2_schema.user_events WHERE event_type LIKE 'mv2-%'");
    assert_eq!(b.scalar(&written), format!("{ok} {ok}"), "every insert that succeeded is on the target once");
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
    assert_eq!(traces(a, "mv3"), ["audit log mv3_audit_log", "move done", "registry moved", "schema mv3_schema"]);
    assert_eq!(traces(b, "mv3"), ["audit log mv3_audit_log", "registry active", "schema mv3_schema"]);
    // The source is read-only for the application now.
    let tenant_id = a.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'mv3'");
    let refused = support::runtime().block_on(async {
        let client = connect_as(&a.url, &login).await;
        app_insert(&client, &tenant_id, "mv3-late").await.map_err(|e| e.code().cloned())
    });
    assert_eq!(refused, Err(Some(tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)));
}
