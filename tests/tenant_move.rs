//! `tenant move` between two servers of a test fleet (tests/support/servers.rs):
//! a live move with an application writing all along (nothing lost or
//! duplicated: counts and checksums), `--offline`, a freeze past
//! `--max-freeze`, sequences, and the refusals. A move killed at every
//! failpoint is tests/tenant_move_crash.rs's.

mod support;
mod tenant_move_common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use support::servers::Fleet;
use support::{Run, Workspace};
use tenant_move_common::*;

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
    let slowest = doc["freeze_slowest"]["ms"].as_u64().expect("the freeze's slowest step");
    assert!(slowest <= doc["freeze_ms"].as_u64().unwrap(), "{doc}");
    assert!(doc["freeze_slowest"]["step"].as_str().is_some_and(|s| !s.is_empty()), "{doc}");
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
        fleet.provision(&ws).args(["--server", &server.name, "verify"]).success();
        fleet.provision(&ws).args(["--server", &server.name, "status"]).success();
    }
    // `up` on the source, with the tenant declared, does not build it again there.
    let declared = Workspace::new("[tenants.mv1]\nname = \"mv1\"\n");
    Run::new().in_workspace(&declared).args(["--database-url", &a.url, "up"]).success();
    assert_eq!(traces(a, "mv1"), ["move done", "registry moved"]);
    // And back: the moved entry on a gives way to the tenant coming home.
    fleet.provision(&ws).args(["tenant", "move", "mv1", "--to", "a", "--keep-source"]).success();
    assert_eq!(contents(a, "mv1"), before);
    assert_eq!(a.scalar("SELECT status::text FROM shared.tenants WHERE tenant_code = 'mv1'"), "active");
    assert_eq!(b.scalar("SELECT status::text FROM shared.tenants WHERE tenant_code = 'mv1'"), "moved");
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
    fleet.provision(&ws).args(["--server", "a"]).args(add).success();
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

#[test]
fn the_sources_password_reaches_the_subscription_but_no_output() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let b = fleet.server("b");
    let ws = tenant_on_a(&fleet, "mv8");
    // The test clusters trust local connections: the password is carried, never checked.
    let secret = "s3cret-move-pw";
    let mut run = Run::new().in_workspace(&ws);
    for server in &fleet.servers {
        run = run.env(&server.variable(), support::with_user(&server.url, "postgres", secret));
    }
    let out = run.args(["--verbose", "tenant", "move", "mv8", "--to", "b", "--keep-source"]).success();
    assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        b.scalar("SELECT count(*)::text FROM pg_subscription"),
        "0",
        "the subscription (and its conninfo) is gone"
    );
}

#[test]
fn rows_with_enum_columns_compare_equal_on_a_server_whose_type_oids_differ() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mvenum");
    a.execute(
        "INSERT INTO mvenum_schema.users (password_hash, role, status) \
         SELECT 'h' || g, 'regional_manager', 'suspended' FROM generate_series(1, 3) AS g",
    );
    // Enum labels get new OIDs on the target; burn some so they cannot match a's by chance.
    b.execute("CREATE TYPE oid_pad AS ENUM ('a', 'b', 'c', 'd', 'e'); DROP TYPE oid_pad");
    let enum_columns = "SELECT count(*)::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
                        WHERE a.attrelid = 'mvenum_schema.users'::regclass AND t.typtype = 'e'";
    assert_ne!(a.scalar(enum_columns), "0");
    let before = contents(a, "mvenum");
    let doc = move_run(&fleet, &ws, "mvenum", &["--json"]).success().json();
    assert_eq!(doc["outcome"], "moved", "{doc}");
    assert_eq!(contents(b, "mvenum"), before);
    assert_eq!(b.scalar("SELECT count(*)::text FROM mvenum_schema.users WHERE status = 'suspended'"), "3");
}
