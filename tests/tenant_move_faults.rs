//! `tenant move` when its servers fail or are declared wrong. A move spans
//! two servers and takes effect on both, so the outages that matter are the
//! ones between them: the target down before the move starts, the source
//! down, the target stopped in the middle of the copy. In each, the tenant
//! must stay active and writable on its source, with no publication or slot
//! left behind there, the exit code must say what happened (3: a server did
//! not answer), and once the server is back a re-run finishes the move (rows
//! and checksums equal) or `--abort` removes every trace. Two layouts a
//! fleet of clusters never shows are here too: two servers that are two
//! databases of one cluster (roles, slots and subscriptions are shared), and
//! two server names for one database (a move would drop what it copies).
//! And one state PostgreSQL itself can leave behind when the target stops
//! mid-copy (a table sync that can never finish), made on purpose.
//! tests/tenant_move.rs has the moves themselves and tests/tenant_move_crash.rs
//! the move killed at each of its failpoints.

mod support;
mod tenant_move_common;

use std::time::{Duration, Instant};

use support::servers::Fleet;
use support::{Outcome, Workspace};
use tenant_move_common::*;

const NONE: [&str; 0] = [];

fn status_on(server: &support::servers::FleetServer, code: &str) -> String {
    server.scalar(&format!("SELECT status::text FROM shared.tenants WHERE tenant_code = '{code}'"))
}

/// The tenant's catalog traces on a source the move never touched.
fn untouched(code: &str) -> Vec<String> {
    let mut kept = vec![format!("audit log {code}_audit_log"), "registry active".to_owned()];
    kept.extend(["app", "owner", "ro"].map(|r| format!("role {code}_{r}")));
    kept.push(format!("schema {code}_schema"));
    kept
}

/// An insert the application commits on server a, as its login.
fn app_writes_on_a(fleet: &Fleet, code: &str, login: &str, marker: &str) {
    let a = fleet.server("a");
    let tenant_id = a.scalar(&format!("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = '{code}'"));
    support::runtime().block_on(async {
        let client = connect_as(&a.url, login).await;
        app_insert(&client, &tenant_id, marker)
            .await
            .unwrap_or_else(|e| panic!("{marker}: the write on a failed: {e:?}"));
    });
}

#[test]
fn a_target_down_before_the_move_exits_3_naming_it_and_a_rerun_moves_the_tenant() {
    let fleet = Fleet::private(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mf1");
    let before = contents(a, "mf1");
    assert_eq!(traces(a, "mf1"), untouched("mf1"));
    fleet.cluster(1).stop();
    let out = move_run(&fleet, &ws, "mf1", &[]).status(3).one_line_error();
    assert!(out.stderr.starts_with("error: server b: cannot connect to PostgreSQL"), "{}", out.stderr);
    assert_eq!(traces(a, "mf1"), untouched("mf1"), "no move recorded, the tenant active on a");
    assert_eq!(replication_objects(a, "mf1"), NONE, "no publication or slot on a");
    assert_eq!(contents(a, "mf1"), before);
    fleet.cluster(1).start_again();
    assert_eq!(b.registered(), NONE, "b was down: nothing of the tenant is there");
    move_run(&fleet, &ws, "mf1", &[]).success();
    assert_eq!(contents(b, "mf1"), before);
    assert_eq!((status_on(a, "mf1"), status_on(b, "mf1")), ("moved".to_owned(), "active".to_owned()));
    assert_eq!(traces(a, "mf1"), ["move done", "registry moved"]);
    assert_eq!((replication_objects(a, "mf1"), replication_objects(b, "mf1")), (vec![], vec![]));
}

#[test]
fn a_source_down_exits_3_naming_it_and_nothing_reaches_the_target() {
    let fleet = Fleet::private(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mf2");
    let before = contents(a, "mf2");
    fleet.cluster(0).stop();
    let out = move_run(&fleet, &ws, "mf2", &[]).status(3).one_line_error();
    assert!(out.stderr.contains("these did not: a (cannot connect to PostgreSQL"), "{}", out.stderr);
    let doc = move_run(&fleet, &ws, "mf2", &["--json"]).status(3).json();
    assert_eq!((doc["error"]["exit_code"].as_i64(), doc["error"]["kind"].as_str()), (Some(3), Some("unavailable")));
    assert_eq!(b.registered(), NONE);
    assert_eq!(replication_objects(b, "mf2"), NONE, "no subscription on b");
    fleet.cluster(0).start_again();
    assert_eq!((traces(a, "mf2"), contents(a, "mf2")), (untouched("mf2"), before));
    assert_eq!(replication_objects(a, "mf2"), NONE);
}

/// Runs the move with the copy of `user_events` held up on server b (a
/// lock its table sync waits for) and stops b once the copy waits there:
/// the outage hits the move in the middle of its copy, subscription made.
fn stopped_mid_copy(fleet: &Fleet, ws: &Workspace, code: &str) -> Outcome {
    killed_at(fleet, ws, code, "tenant_move.after_provision");
    fleet.server("b").with(async |c| {
        let table = format!("{code}_schema.user_events");
        c.batch_execute(&format!("BEGIN; LOCK TABLE {table} IN EXCLUSIVE MODE")).await.unwrap();
        let child = move_run(fleet, ws, code, &[]).spawn();
        let waiting = format!("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '{table}'::regclass");
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.query_one(&waiting, &[]).await.unwrap().get::<_, i64>(0) == 0 {
            assert!(Instant::now() < deadline, "the copy never reached {table} on b");
            std::thread::sleep(Duration::from_millis(50));
        }
        fleet.cluster(1).stop();
        Outcome::from(child.wait_with_output().unwrap())
    })
}

#[test]
fn a_target_stopped_mid_copy_leaves_the_tenant_writable_on_a_then_a_rerun_or_abort_ends_the_move() {
    let fleet = Fleet::private(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let mut errors = Vec::new();
    for (code, abort) in [("mf3r", false), ("mf3a", true)] {
        let ws = tenant_on_a(&fleet, code);
        let login = app_login_on_a(&fleet, &ws, code);
        let out = stopped_mid_copy(&fleet, &ws, code);
        assert_eq!(out.code, 1, "{code}: {}", out.stderr);
        let last = out.stderr.lines().last().unwrap_or_default().to_owned();
        assert!(last.starts_with("error: ") && last.contains("run the same command again"), "{code}: {}", out.stderr);
        errors.push((code, last));
        // The source is authoritative and writable; the move is recorded for a re-run.
        assert_usable_on_a(&fleet, code, &login);
        app_writes_on_a(&fleet, code, &login, &format!("{code}-while-b-is-down"));
        let moves = traces(a, code).into_iter().filter(|t| t.starts_with("move")).collect::<Vec<_>>();
        assert_eq!(moves, ["move subscribed unfinished"], "{code}");
        let left = replication_objects(a, code);
        let (publication, slot) = (format!("publication pmove_{code}"), format!("slot pmove_{code}"));
        assert!(left.contains(&publication) && left.contains(&slot), "{code}: {left:?}");
        // With b still down, neither a re-run nor --abort can do anything: exit 3, nothing changed.
        let (rows, kept) = (contents(a, code), traces(a, code));
        let extra: &[&str] = if abort { &["--abort"] } else { &[] };
        move_run(&fleet, &ws, code, extra).status(3).one_line_error().stderr_has("server b");
        assert_eq!((contents(a, code), traces(a, code)), (rows.clone(), kept));
        fleet.cluster(1).start_again();
        if abort {
            let doc = move_run(&fleet, &ws, code, &["--abort", "--json"]).success().json();
            assert_eq!((doc["outcome"].as_str(), doc["resumed_from"].as_str()), (Some("aborted"), Some("subscribed")));
            assert_eq!(traces(a, code), untouched(code), "abort leaves a as it was");
            assert_eq!(contents(a, code), rows);
            assert_eq!(traces(b, code), NONE, "abort leaves nothing on b, registry entry included");
            assert_usable_on_a(&fleet, code, &login);
        } else {
            let doc = move_run(&fleet, &ws, code, &["--json"]).success().json();
            assert_eq!((doc["outcome"].as_str(), doc["resumed_from"].as_str()), (Some("moved"), Some("subscribed")));
            assert_eq!(contents(b, code), rows, "b has every row, the write made while it was down included");
            let marker = format!("SELECT count(*)::text FROM {code}_schema.user_events WHERE event_type LIKE '%-down'");
            assert_eq!(b.scalar(&marker), "1");
            assert_eq!(status_on(b, code), "active");
            assert_eq!(traces(a, code), ["move done", "registry moved"]);
        }
        assert_eq!(replication_objects(a, code), NONE, "{code}: no publication or slot left on a");
        assert_eq!(replication_objects(b, code), NONE, "{code}: no subscription left on b");
    }
    // README, "Exit codes": a server lost mid-run is named, with the tenant.
    for (code, error) in errors {
        assert!(error.contains("server b") && error.contains(code), "{code}: name server b and the tenant: {error}");
    }
}

#[test]
fn a_move_between_two_databases_of_one_cluster_works_live_and_offline() {
    let _serial = serial();
    let fleet = Fleet::one_cluster(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    assert_eq!(
        a.scalar("SELECT system_identifier::text FROM pg_control_system()"),
        b.scalar("SELECT system_identifier::text FROM pg_control_system()")
    );
    let ws = tenant_on_a(&fleet, "mf4");
    let before = contents(a, "mf4");
    let doc = move_run(&fleet, &ws, "mf4", &["--json"]).success().json();
    assert_eq!(doc["outcome"], "moved", "{doc}");
    assert_eq!(contents(b, "mf4"), before);
    // The roles are the cluster's: the copy on b uses them, so they stay.
    let roles = ["role mf4_app", "role mf4_owner", "role mf4_ro"];
    assert_eq!(traces(a, "mf4"), [&["move done", "registry moved"][..], &roles].concat());
    assert_eq!(replication_objects(a, "mf4"), NONE, "no publication, subscription or slot anywhere on the cluster");
    // And back, offline: the roles a source and target share survive this source's drop too.
    let doc = fleet.provision(&ws).args(["tenant", "move", "mf4", "--to", "a", "--offline", "--json"]).success().json();
    assert_eq!((doc["outcome"].as_str(), doc["from"].as_str()), (Some("moved"), Some("b")), "{doc}");
    assert_eq!(contents(a, "mf4"), before);
    assert_eq!((status_on(a, "mf4"), status_on(b, "mf4")), ("active".to_owned(), "moved".to_owned()));
    assert_eq!(traces(b, "mf4"), [&["move done", "registry moved"][..], &roles].concat());
    for server in [a, b] {
        fleet.provision(&ws).args(["--server", &server.name, "verify"]).success();
    }
}

#[test]
fn two_servers_naming_one_database_are_refused_with_exit_2_and_nothing_changes() {
    let _serial = serial();
    let fleet = Fleet::same_database();
    let a = fleet.server("a");
    let ws = tenant_on_a(&fleet, "mf5");
    let before = (contents(a, "mf5"), traces(a, "mf5"));
    for extra in [&[][..], &["--offline"]] {
        let out = move_run(&fleet, &ws, "mf5", extra).status(2).one_line_error().stderr_has("same database");
        assert!(out.stderr.contains(&format!("servers a and b are the same database ({})", a.db)), "{}", out.stderr);
        assert_eq!((contents(a, "mf5"), traces(a, "mf5")), before, "{extra:?}: nothing changed");
        assert_eq!(replication_objects(a, "mf5"), NONE);
    }
}

/// What PostgreSQL 15 leaves when the target stops between a table sync's
/// drop of its slot on the source and its commit that the table is done
/// (the slot's drop cannot be rolled back): the table `finishedcopy` for
/// ever, its sync worker failing on "replication slot … does not exist".
/// The mid-copy test above meets it about one run in eight under load; this
/// test makes it every time, by the catalog rows PostgreSQL leaves.
#[test]
fn a_table_sync_whose_slot_the_source_lost_is_copied_again_by_the_rerun() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mf6");
    let before = contents(a, "mf6");
    killed_at(&fleet, &ws, "mf6", "tenant_move.after_subscription");
    let syncing = "SELECT count(*)::text FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid \
                   WHERE s.subname = 'pmove_mf6' AND r.srsubstate <> 'r'";
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.scalar(syncing) != "0" {
        assert!(Instant::now() < deadline, "the subscription never copied the tables");
        std::thread::sleep(Duration::from_millis(100));
    }
    b.execute("ALTER SUBSCRIPTION pmove_mf6 DISABLE");
    b.execute(
        "UPDATE pg_subscription_rel SET srsubstate = 'f', srsublsn = NULL WHERE srrelid = 'mf6_schema.roles'::regclass;
         INSERT INTO pg_replication_origin (roident, roname)
         SELECT (SELECT coalesce(max(roident)::int8, 0) + 1 FROM pg_replication_origin)::oid,
                format('pg_%s_%s', s.oid, 'mf6_schema.roles'::regclass::oid)
         FROM pg_subscription s WHERE s.subname = 'pmove_mf6'",
    );
    b.execute("ALTER SUBSCRIPTION pmove_mf6 ENABLE");
    let out = move_run(&fleet, &ws, "mf6", &["--json"]).success();
    assert!(out.stderr.contains("copying tenant mf6 again"), "{}", out.stderr);
    assert_eq!(
        (out.json()["outcome"].as_str(), out.json()["resumed_from"].as_str()),
        (Some("moved"), Some("subscribed"))
    );
    assert_eq!(contents(b, "mf6"), before);
    assert_eq!((replication_objects(a, "mf6"), replication_objects(b, "mf6")), (vec![], vec![]));
}
