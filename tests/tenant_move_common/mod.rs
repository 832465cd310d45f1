//! What tests/tenant_move.rs and tests/tenant_move_crash.rs share: the
//! tenant on server a of a two-server fleet, the application's login there,
//! and the images of one server's copy of a tenant the tests compare.
//!
//! The moves of one binary run one at a time ([`serial`]): they share two
//! clusters, and each takes replication slots and workers there.
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

use crate::support::access::PASSWORD;
use crate::support::servers::{Fleet, FleetServer};
use crate::support::{self, Run, Workspace};

static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A workspace declaring the fleet's servers, and tenant `code` created on
/// server a with some rows in a plain table, a partitioned one and the
/// audit log.
pub fn tenant_on_a(fleet: &Fleet, code: &str) -> Workspace {
    let ws = Workspace::new(&fleet.servers_toml());
    let a = fleet.server("a");
    fleet.provision(&ws).args(["--server", "a", "tenant", "add", code, "--name", code]).success();
    a.execute(&format!(
        "INSERT INTO {code}_schema.user_events (event_type, \"timestamp\") \
         SELECT 'seed', localtimestamp - g * interval '1 hour' FROM generate_series(1, 40) AS g;
         INSERT INTO {code}_schema.roles (role_name, role_description) SELECT 'r' || g, 'seed' FROM generate_series(1, 5) AS g"
    ));
    ws
}

pub fn move_run(fleet: &Fleet, ws: &Workspace, code: &str, extra: &[&str]) -> Run {
    fleet.provision(ws).args(["tenant", "move", code, "--to", "b"]).args(extra)
}

/// Rows and checksum of every table of the tenant (schema and audit log) on one server.
pub fn contents(server: &FleetServer, code: &str) -> Vec<String> {
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
pub fn sequences(server: &FleetServer, code: &str) -> Vec<String> {
    server.strings(&format!(
        "SELECT c.oid::regclass::text || ' ' || coalesce(pg_sequence_last_value(c.oid)::text, 'unused') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'S' AND (n.nspname = '{code}_schema' OR c.relname LIKE '{code}\\_audit\\_log%') ORDER BY 1"
    ))
}

/// What a move may leave behind on a server: publications, subscriptions,
/// slots, the tenant's schema and audit log, its registry entry and move row.
pub fn traces(server: &FleetServer, code: &str) -> Vec<String> {
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

/// The document has exactly the keys of docs/json.md's `tenant_move` shape,
/// with values of their types (tests/json_schema.rs checks the other shapes).
pub fn assert_documented(doc: &serde_json::Value) {
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
pub fn app_login_on_a(fleet: &Fleet, ws: &Workspace, code: &str) -> String {
    let a = fleet.server("a");
    let login = format!("login_{}_{code}", a.db);
    a.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    fleet.provision(ws).args(["tenant", "grant", code, &login]).success();
    login
}

/// Connects to the database at `url` as `login`.
pub async fn connect_as(url: &str, login: &str) -> tokio_postgres::Client {
    let url = support::with_user(url, login, PASSWORD);
    let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
    target.connect().await.expect("connect as the login")
}

/// One insert as the application does it: its tenant id set for the transaction.
pub async fn app_insert(
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

/// Every failpoint of a move, in the order a move reaches them.
pub fn move_points() -> Vec<&'static str> {
    provision::failpoint::ALL.iter().copied().filter(|p| p.starts_with("tenant_move.")).collect()
}

/// Before the switch the source is authoritative.
pub fn before_switch(point: &str) -> bool {
    !matches!(point, "tenant_move.after_switch" | "tenant_move.after_cleanup")
}

/// One server's state of tenant `code` with the code replaced by `X` and
/// UUIDs masked, so two tenants' moves compare: traces, rows per table, and
/// the catalog of the schema and audit log.
pub fn normalized(server: &FleetServer, code: &str) -> Vec<String> {
    let catalog = include_str!("../sql/catalog_snapshot.sql").trim_end().trim_end_matches(';').to_owned();
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
pub fn assert_usable_on_a(fleet: &Fleet, code: &str, login: &str) {
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
pub fn killed_at(fleet: &Fleet, ws: &Workspace, code: &str, point: &str) {
    let out = move_run(fleet, ws, code, &[]).env(provision::failpoint::VARIABLE, point).output();
    assert_ne!(out.code, 0, "{point}: the move was not killed:\n{}", out.stderr);
    assert!(out.stderr.contains(&format!("failpoint {point}: aborting")), "{point}:\n{}", out.stderr);
}

/// A move's replication objects for tenant `code` as the server's whole
/// cluster sees them: its publication (this database), its subscription and
/// slot (the cluster's, whichever database holds them), and the table-sync
/// slots a subscription leaves on this database when its server stops mid-copy.
pub fn replication_objects(server: &FleetServer, code: &str) -> Vec<String> {
    server.strings(&format!(
        "SELECT 'publication ' || pubname FROM pg_publication WHERE pubname = 'pmove_{code}' \
         UNION ALL SELECT 'subscription ' || subname || ' in ' || d.datname FROM pg_subscription s \
           JOIN pg_database d ON d.oid = s.subdbid WHERE s.subname = 'pmove_{code}' \
         UNION ALL SELECT 'slot ' || slot_name FROM pg_replication_slots \
           WHERE slot_name = 'pmove_{code}' OR (slot_name LIKE 'pg\\_%\\_sync\\_%' AND database = current_database()) \
         ORDER BY 1"
    ))
}
