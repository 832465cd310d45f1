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

use provision::failpoint;
use support::access::{app_login, PASSWORD};
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
    // A re-run has nothing left to do.
    move_run(&fleet, &ws, "mv1", &[]).stdout("tenant mv1 is already on server b; nothing to move\n").success();
}
