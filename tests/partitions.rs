//! `provision partitions rollover|list` against a real PostgreSQL: simulated
//! time (`--now`), gap catch-up, retention (drop or archive), rows moved out
//! of the DEFAULT partition, overlapping runs, lock timeouts, dry runs and
//! the security of new partitions. Every assertion reads the catalog
//! (pg_inherits, pg_class, pg_get_expr(relpartbound), pg_policy) or counts
//! rows; the tool's JSON is only compared with what the catalog shows.
//! Dates come from the database clock, so the tests hold on any day.
//! Retention acts on the server's clock, never on `--now`, so the retention
//! tests first give the tenant the older months a long-running database has
//! (`backfill`); `--now` itself is bounded (today .. two years ahead).

mod support;

use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Outcome, TestDb, Workspace};

const LIC: &str = "[tenants.lic]\nname = \"LIC\"\n";
const LIC_HDFC: &str = "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC Life\"\n";

/// A tenant's four monthly-partitioned tables, as (schema, table).
fn tables(code: &str) -> Vec<(String, String)> {
    let schema = format!("{code}_schema");
    vec![
        (schema.clone(), "session_analytics".to_owned()),
        (schema.clone(), "user_events".to_owned()),
        (schema, "video_analytics".to_owned()),
        ("audit".to_owned(), format!("{code}_audit_log")),
    ]
}

/// Months relative to the database clock's current month (month 0).
struct Calendar {
    /// (YYYY_MM, YYYY-MM-01) for months FIRST..
    months: Vec<(String, String)>,
}

const FIRST: i32 = -24;

impl Calendar {
    fn of(db: &TestDb) -> Calendar {
        let rows = db.strings(&format!(
            "SELECT to_char(m, 'YYYY_MM') || '|' || to_char(m, 'YYYY-MM-DD') \
             FROM generate_series({FIRST}, 48) AS k, \
                  LATERAL (SELECT date_trunc('month', localtimestamp) + k * interval '1 month' AS m) x \
             ORDER BY k"
        ));
        let months = rows
            .iter()
            .map(|r| {
                let (suffix, first) = r.split_once('|').unwrap();
                (suffix.to_owned(), first.to_owned())
            })
            .collect();
        Calendar { months }
    }

    fn at(&self, k: i32) -> &(String, String) {
        &self.months[(k - FIRST) as usize]
    }

    /// `YYYY_MM`, the partition name suffix of month k.
    fn suffix(&self, k: i32) -> &str {
        &self.at(k).0
    }

    /// `YYYY-MM-01`, the first day of month k.
    fn first(&self, k: i32) -> &str {
        &self.at(k).1
    }

    /// `YYYY-MM`.
    fn ym(&self, k: i32) -> &str {
        &self.at(k).1[..7]
    }

    /// A `--now` inside month k (its 15th, far from either boundary).
    fn now(&self, k: i32) -> String {
        format!("{}-15", self.ym(k))
    }

    /// A timestamp literal inside month k.
    fn inside(&self, k: i32) -> String {
        format!("{}-10 12:00:00", self.ym(k))
    }

    fn part(&self, table: &str, k: i32) -> String {
        format!("{table}_p{}", self.suffix(k))
    }
}

/// One attached partition: name and bounds (dates, or DEFAULT).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    name: String,
    lo: String,
    hi: String,
}

/// Every partition attached to `schema.table`, from pg_inherits and the bound.
fn attached(db: &TestDb, schema: &str, table: &str) -> Vec<Part> {
    let sql = include_str!("sql/partitions_bounds.sql")
        .replace(":schema", &format!("'{schema}'"))
        .replace(":table", &format!("'{table}'"));
    db.strings(&sql)
        .into_iter()
        .map(|r| {
            let f: Vec<&str> = r.split('|').collect();
            Part { name: f[0].to_owned(), lo: f[1].to_owned(), hi: f[2].to_owned() }
        })
        .collect()
}

fn monthly(db: &TestDb, schema: &str, table: &str) -> Vec<Part> {
    attached(db, schema, table).into_iter().filter(|p| p.lo != "DEFAULT").collect()
}

/// Monthly partitions for months `from..=to`, as they must look.
fn expected(cal: &Calendar, table: &str, from: i32, to: i32) -> Vec<Part> {
    (from..=to)
        .map(|k| Part { name: cal.part(table, k), lo: cal.first(k).to_owned(), hi: cal.first(k + 1).to_owned() })
        .collect()
}

/// Every partitioned table of `code` has its DEFAULT partition and exactly
/// the monthly partitions `from..=to`, contiguous, in the parent's schema.
fn assert_window(db: &TestDb, cal: &Calendar, code: &str, from: i32, to: i32) {
    for (schema, table) in tables(code) {
        let parts = attached(db, &schema, &table);
        let defaults: Vec<&Part> = parts.iter().filter(|p| p.lo == "DEFAULT").collect();
        assert_eq!(defaults.len(), 1, "{schema}.{table}: one DEFAULT partition expected: {parts:#?}");
        assert_eq!(defaults[0].name, format!("{table}_default"));
        let months = monthly(db, &schema, &table);
        assert_eq!(
            months,
            expected(cal, &table, from, to),
            "{schema}.{table}: expected months {from}..={to} ({}..{}) exactly",
            cal.ym(from),
            cal.ym(to)
        );
        assert_contiguous(&schema, &table, &months);
        let elsewhere = db.scalar(&format!(
            "SELECT count(*)::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = '{schema}.{table}'::regclass AND c.relnamespace <> '{schema}'::regnamespace"
        ));
        assert_eq!(elsewhere, "0", "{schema}.{table} has partitions outside {schema}");
    }
}

fn assert_contiguous(schema: &str, table: &str, months: &[Part]) {
    for pair in months.windows(2) {
        assert_eq!(pair[0].hi, pair[1].lo, "{schema}.{table}: gap or overlap between {pair:#?}");
    }
}

/// Schemas holding a relation of this name (empty: it exists nowhere).
fn schemas_holding(db: &TestDb, relname: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname = '{relname}' ORDER BY 1"
    ))
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.scalar(&format!("SELECT count(*)::text FROM ({sql}) q")).parse().unwrap()
}

/// Runs `provision --json partitions rollover <args>` and expects exit 0.
fn rollover(db: &TestDb, ws: &Workspace, args: &[&str]) -> Value {
    db.provision().in_workspace(ws).args(["--json", "partitions", "rollover"]).args(args).success().json()
}

/// The `tenants` entry of one tenant in a rollover document.
fn entry<'a>(doc: &'a Value, code: &str) -> &'a Value {
    let tenants = doc["tenants"].as_array().unwrap_or_else(|| panic!("no tenants array: {doc:#}"));
    let found: Vec<&Value> = tenants.iter().filter(|t| t["tenant"] == code).collect();
    assert_eq!(found.len(), 1, "exactly one entry for {code} expected: {doc:#}");
    found[0]
}

/// Partition names of a JSON array, unqualified and sorted.
fn names(v: &Value) -> Vec<String> {
    let items = v.as_array().unwrap_or_else(|| panic!("not an array of names: {v}"));
    let mut names: Vec<String> = items
        .iter()
        .map(|n| {
            let n = n.as_str().unwrap_or_else(|| panic!("not a name: {n}"));
            n.rsplit('.').next().unwrap().trim_matches('"').to_owned()
        })
        .collect();
    names.sort();
    names
}

/// The partitions a run created for one tenant; a tenant with nothing to
/// do may be left out of `tenants`.
fn created(doc: &Value, code: &str) -> Vec<String> {
    let tenants = doc["tenants"].as_array().unwrap_or_else(|| panic!("no tenants array: {doc:#}"));
    match tenants.iter().find(|t| t["tenant"] == code) {
        Some(t) => names(&t["created"]),
        None => Vec::new(),
    }
}

/// A count given either as a number or as the array it counts.
fn how_many(v: &Value) -> u64 {
    match v {
        Value::Array(items) => items.len() as u64,
        Value::Number(n) => n.as_u64().unwrap(),
        Value::Null => 0,
        other => panic!("not a count: {other}"),
    }
}

/// Partition names of `code`'s four tables for months `ks`, sorted.
fn parts_of(cal: &Calendar, code: &str, ks: impl IntoIterator<Item = i32> + Clone) -> Vec<String> {
    let mut names: Vec<String> =
        tables(code).iter().flat_map(|(_, t)| ks.clone().into_iter().map(move |k| cal.part(t, k))).collect();
    names.sort();
    names
}

/// Waits for a spawned run, killing it (and failing) after `limit`.
fn finish(mut child: Child, limit: Duration) -> Outcome {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().ok();
            let out = Outcome::from(child.wait_with_output().unwrap());
            panic!("provision still running after {limit:?}, killed:\n{out:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Outcome::from(child.wait_with_output().unwrap())
}

/// Runs `body` while another session holds what `lock_sql` takes, in an open
/// transaction on its own thread; `body` may call the `release` it is given
/// (a ROLLBACK) early, otherwise the lock is released when it returns.
fn holding<T>(db: &TestDb, lock_sql: &str, body: impl FnOnce(&dyn Fn()) -> T) -> T {
    let (locked_tx, locked_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (released_tx, released_rx) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let holder = scope.spawn(move || {
            db.with(async |c| {
                c.batch_execute(&format!("BEGIN; {lock_sql}")).await.unwrap_or_else(|e| panic!("{lock_sql}: {e:?}"));
                locked_tx.send(()).unwrap();
                release_rx.recv().ok();
                c.batch_execute("ROLLBACK").await.unwrap();
                released_tx.send(()).ok();
            })
        });
        locked_rx.recv().expect("the other session took its lock");
        let release = || {
            release_tx.send(()).ok();
            released_rx.recv().ok();
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&release)));
        release();
        holder.join().unwrap();
        result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

const TENANT_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended('provision:tenant:lic', 0));";

/// Catalog facts of one tenant only (its schema and its audit log).
fn tenant_catalog(db: &TestDb, code: &str) -> Vec<String> {
    let schema = format!("{code}_schema.");
    let log = format!("audit.{code}_audit_log");
    db.catalog().into_iter().filter(|x| x.starts_with(&schema) || x.starts_with(&log)).collect()
}

fn provisioned(toml: &str) -> (TestDb, Workspace, Calendar) {
    let db = TestDb::new();
    let ws = Workspace::new(toml);
    db.provision().in_workspace(&ws).arg("up").success();
    let cal = Calendar::of(&db);
    (db, ws, cal)
}

// 1
#[test]
fn rollover_after_two_months_creates_exactly_the_missing_months_then_is_a_no_op() {
    let (db, ws, cal) = provisioned(LIC);
    assert_window(&db, &cal, "lic", 0, 3);

    let doc = rollover(&db, &ws, &["--now", &cal.now(2)]);
    let lic = entry(&doc, "lic");
    assert_eq!(lic["outcome"], "ok", "{doc:#}");
    assert_eq!(names(&lic["created"]), parts_of(&cal, "lic", 4..=5), "{doc:#}");
    assert_eq!(doc["summary"]["created"], 8, "{doc:#}");
    assert_eq!(doc["summary"]["failures"], 0, "{doc:#}");
    assert_window(&db, &cal, "lic", 0, 5);

    let catalog = db.catalog();
    let again = rollover(&db, &ws, &["--now", &cal.now(2)]);
    assert_eq!(again["summary"]["created"], 0, "{again:#}");
    assert!(created(&again, "lic").is_empty(), "{again:#}");
    assert_eq!(db.catalog(), catalog, "a second rollover with the same --now changed the catalog");
    let text = db.provision().in_workspace(&ws).args(["partitions", "rollover", "--now", &cal.now(2)]).success();
    assert!(!text.stdout.trim().is_empty(), "no summary line on stdout:\n{}", text.stderr);
    assert_eq!(db.catalog(), catalog);
}

// 2
#[test]
fn a_missed_year_is_caught_up_without_gaps() {
    let (db, ws, cal) = provisioned(LIC);
    let doc = rollover(&db, &ws, &["--now", &cal.now(14)]);
    assert_eq!(entry(&doc, "lic")["outcome"], "ok", "{doc:#}");
    // Months 4..=17 were missing for each of the four tables; nothing is old
    // enough for the retention of shared.data_retention_policies.
    assert_eq!(doc["summary"]["created"], 14 * 4, "{doc:#}");
    assert_eq!(created(&doc, "lic"), parts_of(&cal, "lic", 4..=17));
    assert_eq!(how_many(&doc["summary"]["dropped"]), 0, "{doc:#}");
    assert_window(&db, &cal, "lic", 0, 17);
}

/// Months `ks` of partitions for every table of `code`, as a database that
/// has run for a while has them (retention acts on the server's clock, so
/// only partitions older than now can show it): each created by its
/// parent's owner, the audit log's guards completed by
/// audit.ensure_audit_log as provisioning does.
fn backfill(db: &TestDb, cal: &Calendar, code: &str, ks: std::ops::RangeInclusive<i32>) {
    for (schema, table) in tables(code) {
        let owner = if schema == "audit" { "provision_audit".to_owned() } else { format!("{code}_owner") };
        for k in ks.clone() {
            db.execute(&format!(
                "SET ROLE {owner}; CREATE TABLE {schema}.{} PARTITION OF {schema}.{table} \
                 FOR VALUES FROM ('{}') TO ('{}'); RESET ROLE",
                cal.part(&table, k),
                cal.first(k),
                cal.first(k + 1)
            ));
        }
    }
    db.execute(&format!("SELECT audit.ensure_audit_log('{code}')"));
}

// 3, and issue 11 item 11: a --now ahead never releases what the server's clock keeps
#[test]
fn retention_drops_partitions_wholly_older_than_the_servers_boundary_and_keeps_the_window() {
    let (db, ws, cal) = provisioned("[tenants.lic]\nname = \"LIC\"\nretention = \"3 months\"\narchive = false\n");
    backfill(&db, &cal, "lic", -6..=-1);
    db.execute(&format!(
        "INSERT INTO lic_schema.user_events (event_type, \"timestamp\") VALUES ('kept', '{}')",
        cal.inside(-3)
    ));

    // Server clock: month 0, boundary inside month -3: months -6..=-4 end
    // before it. --now month 6 moves only the window ahead, not the boundary.
    let doc = rollover(&db, &ws, &["--now", &cal.now(6)]);
    let lic = entry(&doc, "lic");
    assert_eq!(lic["outcome"], "ok", "{doc:#}");
    assert_window(&db, &cal, "lic", -3, 9);
    for (_, table) in tables("lic") {
        for k in -6..=-4 {
            let name = cal.part(&table, k);
            assert!(schemas_holding(&db, &name).is_empty(), "{name} should be detached and dropped");
        }
    }
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events WHERE event_type = 'kept'"), 1);
    assert_eq!(names(&lic["created"]), parts_of(&cal, "lic", 4..=9), "{doc:#}");
    assert_eq!(names(&lic["dropped"]), parts_of(&cal, "lic", -6..=-4), "{doc:#}");
    assert_eq!(doc["summary"]["dropped"], 12, "{doc:#}");

    // The same --now again: nothing more to drop or create.
    let catalog = db.catalog();
    let again = rollover(&db, &ws, &["--now", &cal.now(6)]);
    assert_eq!(again["summary"]["created"], 0, "{again:#}");
    assert_eq!(again["summary"]["dropped"], 0, "{again:#}");
    assert_eq!(db.catalog(), catalog);
}

// 3
#[test]
fn catch_up_with_retention_never_creates_partitions_older_than_the_boundary() {
    let (db, ws, cal) = provisioned("[tenants.lic]\nname = \"LIC\"\nretention = \"3 months\"\narchive = false\n");
    // One partition of month -8 survived, with a gap up to month 0: the
    // boundary (inside month -3) releases -8; -7..=-4 must never appear.
    backfill(&db, &cal, "lic", -8..=-8);
    let doc = rollover(&db, &ws, &[]);
    let lic = entry(&doc, "lic");
    assert_eq!(lic["outcome"], "ok", "{doc:#}");
    assert_window(&db, &cal, "lic", -3, 3);
    for (_, table) in tables("lic") {
        for k in -8..=-4 {
            let name = cal.part(&table, k);
            assert!(schemas_holding(&db, &name).is_empty(), "{name} exists but is older than the retention boundary");
        }
    }
    assert_eq!(names(&lic["created"]), parts_of(&cal, "lic", -3..=-1), "{doc:#}");
    assert_eq!(doc["summary"]["dropped"], 4, "{doc:#}");
}

/// Guard triggers of a relation: `name enabled-state`, sorted.
fn guards(db: &TestDb, rel: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT tgname::text || ' ' || tgenabled::text FROM pg_trigger \
         WHERE tgrelid = '{rel}'::regclass AND NOT tgisinternal ORDER BY 1"
    ))
}

// 3, and issue 11 item 9: archived audit partitions keep every guard
#[test]
fn archive_moves_old_partitions_with_their_rows_and_guards_to_the_archive_schemas() {
    let (db, ws, cal) = provisioned("[tenants.lic]\nname = \"LIC\"\nretention = \"3 months\"\narchive = true\n");
    backfill(&db, &cal, "lic", -6..=-1);
    db.execute(&format!(
        "INSERT INTO lic_schema.user_events (event_type, \"timestamp\") VALUES ('old', '{0}'), ('old', '{0}'); \
         INSERT INTO audit.lic_audit_log (table_name, record_id, operation, \"timestamp\") VALUES ('t', '1', 'INSERT', '{0}')",
        cal.inside(-5)
    ));
    let live_guards = guards(&db, &format!("audit.{}", cal.part("lic_audit_log", -5)));
    assert_eq!(live_guards, ["audit_append_only O", "audit_no_truncate O"]);

    let doc = rollover(&db, &ws, &["--now", &cal.now(2)]);
    let lic = entry(&doc, "lic");
    assert_eq!(lic["outcome"], "ok", "{doc:#}");
    assert_window(&db, &cal, "lic", -3, 5);
    for (schema, table) in tables("lic") {
        let archive = if schema == "audit" { "audit_archive" } else { "lic_archive" };
        for k in -6..=-4 {
            let name = cal.part(&table, k);
            assert_eq!(schemas_holding(&db, &name), [archive], "{name} should be in {archive} only");
            let facts = db.scalar(&format!(
                "SELECT c.relkind::text || ' ' || c.relispartition::text || ' ' || \
                        (SELECT count(*) FROM pg_inherits WHERE inhrelid = c.oid) \
                 FROM pg_class c WHERE c.oid = '{archive}.{name}'::regclass"
            ));
            assert_eq!(facts, "r false 0", "{archive}.{name} must be a plain, detached table");
            if schema == "audit" {
                assert_eq!(guards(&db, &format!("{archive}.{name}")), live_guards, "{archive}.{name} lost a guard");
            }
        }
    }
    assert_eq!(
        count(&db, &format!("SELECT FROM lic_archive.{}", cal.part("user_events", -5))),
        2,
        "archived rows lost"
    );
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events WHERE event_type = 'old'"), 0);
    assert_eq!(how_many(&lic["archived"]), 12, "{doc:#}");
    assert_eq!(doc["summary"]["dropped"], 0, "{doc:#}");

    // The log's owner cannot change archived audit rows either.
    let archived = format!("audit_archive.{}", cal.part("lic_audit_log", -5));
    for change in [
        format!("UPDATE {archived} SET operation = 'DELETE'"),
        format!("DELETE FROM {archived}"),
        format!("TRUNCATE {archived}"),
    ] {
        let refused =
            db.with(async |c| c.batch_execute(&format!("BEGIN; SET LOCAL ROLE provision_audit; {change}")).await.err());
        let refused = refused.unwrap_or_else(|| panic!("provision_audit could run {change:?}"));
        assert!(format!("{refused:?}").contains("append-only"), "{change}: {refused:?}");
    }
    assert_eq!(count(&db, &format!("SELECT FROM {archived}")), 1);
}

/// Rows the DEFAULT holds for periods before the window, as written before
/// the window began or into a period already released.
fn write_old_rows(db: &TestDb, cal: &Calendar) {
    let events = |label: &str, k: i32, n: i32| {
        format!(
            "INSERT INTO lic_schema.user_events (event_type, \"timestamp\") \
             SELECT '{label}', timestamp '{}' + g * interval '1 hour' FROM generate_series(1, {n}) g;",
            cal.inside(k)
        )
    };
    db.execute(&format!(
        "{}{}{} INSERT INTO audit.lic_audit_log (table_name, record_id, operation, \"timestamp\") \
         VALUES ('t', '1', 'INSERT', '{}')",
        events("kept", -2, 3),
        events("expired", -12, 2),
        events("far", 12, 1),
        cal.inside(-12)
    ));
    assert_eq!(count(db, "SELECT FROM lic_schema.user_events_default"), 6);
    assert_eq!(count(db, "SELECT FROM audit.lic_audit_log_default"), 1);
}

// DEFAULT rows before the window: kept ones get their partition, expired ones are archived
#[test]
fn default_rows_before_the_window_get_their_partition_or_are_archived_by_their_age() {
    let (db, ws, cal) = provisioned("[tenants.lic]\nname = \"LIC\"\nretention = \"3 months\"\narchive = true\n");
    write_old_rows(&db, &cal);
    let (kept, events_archive, log_archive) = (
        cal.part("user_events", -2),
        format!("lic_archive.{}", cal.part("user_events", -12)),
        format!("audit_archive.{}", cal.part("lic_audit_log", -12)),
    );
    let dry = rollover(&db, &ws, &["--dry-run"]);
    let mut planned: Vec<String> = dry["plan"]["lic"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| ["attach", "archive_rows", "release"].contains(&a["kind"].as_str().unwrap()))
        .map(|a| format!("{} {}", a["kind"].as_str().unwrap(), a["target"].as_str().unwrap()))
        .collect();
    planned.sort();
    // The window reaches back to the kept period, the month between included.
    let mut expected = [
        format!("archive_rows {log_archive}"),
        format!("archive_rows {events_archive}"),
        format!("attach lic_schema.{kept}"),
        format!("attach lic_schema.{}", cal.part("user_events", -1)),
    ];
    expected.sort();
    assert_eq!(planned, expected, "{dry:#}");
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events_default"), 6, "the dry run changed rows");

    let doc = rollover(&db, &ws, &[]);
    let lic = entry(&doc, "lic");
    assert_eq!(lic["outcome"], "ok", "{doc:#}");
    assert_eq!((lic["rows_moved"].clone(), lic["rows_released"].clone()), (3.into(), 3.into()), "{doc:#}");
    assert_eq!(doc["summary"]["rows_released"], 3, "{doc:#}");
    // The kept period is an attached, secured partition holding its rows.
    assert!(attached(&db, "lic_schema", "user_events").iter().any(|p| p.name == kept), "{kept} not attached");
    assert_eq!(count(&db, &format!("SELECT FROM lic_schema.{kept} WHERE event_type = 'kept'")), 3);
    assert_eq!(
        db.scalar(&format!("SELECT relrowsecurity::text || relforcerowsecurity::text FROM pg_class WHERE oid = 'lic_schema.{kept}'::regclass")),
        "truetrue"
    );
    // The expired periods are plain tables of the archive schemas, never partitions.
    for archived in [&events_archive, &log_archive] {
        let facts = db.scalar(&format!(
            "SELECT c.relkind::text || ' ' || c.relispartition::text FROM pg_class c WHERE c.oid = '{archived}'::regclass"
        ));
        assert_eq!(facts, "r false", "{archived}");
    }
    assert_eq!(count(&db, &format!("SELECT FROM {events_archive} WHERE event_type = 'expired'")), 2);
    assert_eq!(count(&db, &format!("SELECT FROM {log_archive}")), 1);
    assert_eq!(guards(&db, &log_archive), ["audit_append_only O", "audit_no_truncate O"]);
    // Only the row beyond the window is left in the DEFAULT.
    assert_eq!(db.strings("SELECT event_type::text FROM lic_schema.user_events_default"), ["far"]);
    assert_eq!(count(&db, "SELECT FROM audit.lic_audit_log_default"), 0);

    let again = rollover(&db, &ws, &[]);
    let summary = &again["summary"];
    assert_eq!(
        (summary["created"].clone(), summary["rows_moved"].clone(), summary["rows_released"].clone()),
        (0.into(), 0.into(), 0.into()),
        "{again:#}"
    );
    db.provision().in_workspace(&ws).arg("verify").success();
}

// Without a retention, old DEFAULT rows stay: nothing bounds how far back partitions would go
#[test]
fn default_rows_of_a_table_without_retention_stay_in_the_default() {
    let (db, ws, cal) = provisioned(LIC);
    // session_analytics has no retention (neither blueprint.toml nor shared.data_retention_policies).
    db.execute(&format!(
        "INSERT INTO lic_schema.session_analytics (event_type, \"timestamp\") VALUES ('ancient', '{}')",
        cal.inside(-20)
    ));
    let before = db.catalog();
    let doc = rollover(&db, &ws, &[]);
    assert_eq!(doc["summary"]["failures"], 0, "{doc:#}");
    assert_eq!(
        (doc["summary"]["created"].clone(), doc["summary"]["rows_released"].clone()),
        (0.into(), 0.into()),
        "{doc:#}"
    );
    assert_eq!(db.catalog(), before, "a partition was made for a row no retention bounds");
    assert_eq!(count(&db, "SELECT FROM lic_schema.session_analytics_default WHERE event_type = 'ancient'"), 1);
}

// Without archive, the DEFAULT's expired rows are deleted
#[test]
fn default_rows_older_than_the_retention_are_deleted_without_archive() {
    let (db, ws, cal) = provisioned("[tenants.lic]\nname = \"LIC\"\nretention = \"3 months\"\narchive = false\n");
    write_old_rows(&db, &cal);
    let doc = rollover(&db, &ws, &[]);
    let lic = entry(&doc, "lic");
    assert_eq!(lic["outcome"], "ok", "{doc:#}");
    assert_eq!(lic["rows_released"], 3, "{doc:#}");
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events WHERE event_type = 'expired'"), 0);
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events WHERE event_type = 'kept'"), 3);
    assert_eq!(count(&db, "SELECT FROM audit.lic_audit_log_default"), 0);
    let archives = format!(
        "SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname IN ('lic_archive', 'audit_archive') AND c.relname LIKE '%\\_p{}'",
        cal.suffix(-12)
    );
    assert_eq!(db.scalar(&archives), "0");
}

// issue 11 item 9: migration V12 gives partitions archived before the fix their guard back
#[test]
fn up_restores_the_guard_of_audit_partitions_archived_by_older_versions() {
    let (db, ws, cal) = provisioned("[tenants.lic]\nname = \"LIC\"\nretention = \"3 months\"\narchive = true\n");
    backfill(&db, &cal, "lic", -5..=-4);
    rollover(&db, &ws, &[]);
    let archived = format!("audit_archive.{}", cal.part("lic_audit_log", -5));
    // What the old rollover left: no append-only guard; and a database that
    // has not applied V12 yet (nor the later versions, whose objects go too).
    db.execute(&format!(
        "DROP TRIGGER audit_append_only ON {archived}; DROP TABLE provision.gate_passed; \
         DROP TABLE shared.tenant_keys, shared.retention_periods, shared.retention_salts; DROP DOMAIN shared.ciphertext CASCADE; \
         DROP FUNCTION shared.decrypt(text, text), shared.wrong_key(text), shared.envelope_key_id(text), \
         shared.is_envelope(text), shared.key_id(text); \
         DELETE FROM provision.refinery_schema_history WHERE version >= 12"
    ));
    db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(guards(&db, &archived), ["audit_append_only O", "audit_no_truncate O"]);
}

// issue 11 item 9: without `archive` in tenants.toml, archive_before_delete decides
#[test]
fn the_retention_policy_decides_archive_or_drop_when_tenants_toml_does_not() {
    let (db, ws, cal) = provisioned("[tenants.lic]\nname = \"LIC\"\nretention = \"3 months\"\n");
    backfill(&db, &cal, "lic", -5..=-4);
    // audit_log keeps its shipped `true`; user_events is switched to false;
    // session_analytics and video_analytics have no policy row: dropped.
    db.execute(
        "UPDATE shared.data_retention_policies SET archive_before_delete = false WHERE table_name = 'user_events'",
    );
    let doc = rollover(&db, &ws, &[]);
    assert_eq!(entry(&doc, "lic")["outcome"], "ok", "{doc:#}");
    for k in -5..=-4 {
        assert_eq!(schemas_holding(&db, &cal.part("lic_audit_log", k)), ["audit_archive"]);
        for table in ["user_events", "session_analytics", "video_analytics"] {
            assert!(schemas_holding(&db, &cal.part(table, k)).is_empty(), "{} should be dropped", cal.part(table, k));
        }
    }
    assert_eq!(doc["summary"]["dropped"], 6, "{doc:#}");
}

// issue 11 item 11: --now has bounds
#[test]
fn now_out_of_bounds_exits_2_naming_the_bound_and_changes_nothing() {
    let (db, ws, cal) = provisioned("[tenants.lic]\nname = \"LIC\"\nretention = \"1 month\"\n");
    db.execute(&format!(
        "INSERT INTO audit.lic_audit_log (table_name, record_id, operation, \"timestamp\") VALUES ('t', '1', 'INSERT', '{}')",
        cal.inside(1)
    ));
    let before = db.catalog();
    let audit_rows = count(&db, "SELECT FROM audit.lic_audit_log");
    for (now, bound) in [
        ("1900-01-01", "before the server's clock"),
        ("99999-01-01", "more than 2 years after the server's clock"),
        ("2040-01-01", "more than 2 years after the server's clock"),
    ] {
        for dry in [true, false] {
            let mut args = vec!["partitions", "rollover", "--now", now];
            if dry {
                args.push("--dry-run");
            }
            let child = db.provision().in_workspace(&ws).args(&args).spawn();
            let out = finish(child, Duration::from_secs(30));
            assert_eq!(out.code, 2, "--now {now}: {out:?}");
            let out = out.one_line_error().stderr_has(bound).stderr_has(now);
            assert!(out.stderr.contains(cal.first(0).get(..7).unwrap()), "the bound is not named: {}", out.stderr);
        }
    }
    assert_eq!(db.catalog(), before, "an out-of-bounds --now changed the catalog");
    assert_eq!(count(&db, "SELECT FROM audit.lic_audit_log"), audit_rows, "audit rows were dropped");
}

// 4
#[test]
fn rows_in_the_default_partition_move_into_the_partition_created_for_them() {
    let (db, ws, cal) = provisioned(LIC);
    let insert = |label: &str, k: i32, n: i32| {
        db.execute(&format!(
            "INSERT INTO lic_schema.user_events (event_type, \"timestamp\") \
             SELECT '{label}', timestamp '{}' + g * interval '1 hour' FROM generate_series(1, {n}) g",
            cal.inside(k)
        ))
    };
    insert("ahead", 5, 7); // DEFAULT now; month 5 gets created below
    insert("far", 12, 2); // DEFAULT, and stays there: month 12 is beyond the window
    insert("current", 1, 3); // already in month 1's partition
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events_default"), 9);
    let ids = "SELECT event_id::text || ' ' || \"timestamp\"::text FROM lic_schema.user_events ORDER BY 1";
    let before = db.strings(ids);
    assert_eq!(before.len(), 12);
    // Only user_events' DEFAULT holds rows: only its new partitions move rows.
    let dry = rollover(&db, &ws, &["--now", &cal.now(3), "--dry-run"]);
    let mut moving: Vec<&str> = dry["plan"]["lic"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "move")
        .map(|a| a["parent"].as_str().unwrap())
        .collect();
    moving.dedup();
    assert_eq!(moving, ["lic_schema.user_events"], "{dry:#}");

    let doc = rollover(&db, &ws, &["--now", &cal.now(3)]);
    let lic = entry(&doc, "lic");
    assert_eq!(lic["outcome"], "ok", "{doc:#}");
    assert_window(&db, &cal, "lic", 0, 6);
    let month5 = cal.part("user_events", 5);
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events_default WHERE event_type = 'ahead'"), 0);
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events_default WHERE event_type = 'far'"), 2);
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events_default"), 2);
    assert_eq!(count(&db, &format!("SELECT FROM lic_schema.{month5}")), 7);
    assert_eq!(count(&db, &format!("SELECT FROM lic_schema.{month5} WHERE event_type = 'ahead'")), 7);
    assert_eq!(
        count(&db, &format!("SELECT FROM lic_schema.{} WHERE event_type = 'current'", cal.part("user_events", 1))),
        3
    );
    assert_eq!(db.strings(ids), before, "rows lost or duplicated");
    assert_eq!(lic["rows_moved"], 7, "{doc:#}");
    assert_eq!(doc["summary"]["rows_moved"], 7, "{doc:#}");
}

// 5
#[test]
fn a_tenant_locked_by_another_session_is_skipped_and_done_next_time() {
    let (db, ws, cal) = provisioned(LIC_HDFC);
    holding(&db, TENANT_LOCK, |_| {
        let doc = rollover(&db, &ws, &["--now", &cal.now(2)]);
        assert_eq!(entry(&doc, "lic")["outcome"], "skipped", "{doc:#}");
        assert!(created(&doc, "lic").is_empty(), "{doc:#}");
        assert_eq!(entry(&doc, "hdfc")["outcome"], "ok", "{doc:#}");
        assert_eq!(created(&doc, "hdfc"), parts_of(&cal, "hdfc", 4..=5), "{doc:#}");
        assert_eq!(doc["summary"]["failures"], 0, "{doc:#}");
        assert_window(&db, &cal, "lic", 0, 3);
        assert_window(&db, &cal, "hdfc", 0, 5);

        let out = db.provision().in_workspace(&ws).args(["partitions", "rollover", "--now", &cal.now(2)]).success();
        assert!(
            format!("{}{}", out.stdout, out.stderr).contains("skipped"),
            "no 'skipped' line:\n{}\n--- stderr\n{}",
            out.stdout,
            out.stderr
        );
        assert_window(&db, &cal, "lic", 0, 3);
    });

    let doc = rollover(&db, &ws, &["--now", &cal.now(2)]);
    assert_eq!(entry(&doc, "lic")["outcome"], "ok", "{doc:#}");
    assert_eq!(created(&doc, "lic"), parts_of(&cal, "lic", 4..=5), "{doc:#}");
    assert!(created(&doc, "hdfc").is_empty(), "{doc:#}");
    assert_eq!(doc["summary"]["created"], 8, "{doc:#}");
    assert_window(&db, &cal, "lic", 0, 5);
    assert_window(&db, &cal, "hdfc", 0, 5);
}

// 5
#[test]
fn with_wait_a_locked_tenant_is_rolled_over_once_the_lock_is_released() {
    let (db, ws, cal) = provisioned(LIC);
    holding(&db, TENANT_LOCK, |release| {
        let mut child = db
            .provision()
            .in_workspace(&ws)
            .args(["--json", "--lock-timeout", "20", "partitions", "rollover", "--wait", "--now", &cal.now(3)])
            .spawn();
        std::thread::sleep(Duration::from_millis(1200));
        assert!(child.try_wait().unwrap().is_none(), "rollover --wait did not wait for the tenant lock");
        assert_window(&db, &cal, "lic", 0, 3);
        release();
        let out = finish(child, Duration::from_secs(30));
        assert_eq!(out.code, 0, "{out:?}");
        let doc = out.json();
        assert_eq!(entry(&doc, "lic")["outcome"], "ok", "{doc:#}");
        assert_eq!(created(&doc, "lic"), parts_of(&cal, "lic", 4..=6), "{doc:#}");
    });
    assert_window(&db, &cal, "lic", 0, 6);
}

// 6, and issue 11 item 13: a lock timeout exits 3 with one line naming tenant and table
#[test]
fn a_blocked_table_fails_its_tenant_with_exit_3_while_everything_else_is_rolled_over() {
    let (db, ws, cal) = provisioned(LIC_HDFC);
    let events_before: Vec<String> =
        tenant_catalog(&db, "lic").into_iter().filter(|x| x.contains("user_events")).collect();
    let out = holding(&db, "LOCK TABLE lic_schema.user_events IN ACCESS EXCLUSIVE MODE;", |_| {
        let child = db
            .provision()
            .in_workspace(&ws)
            .args(["--json", "partitions", "rollover", "--now", &cal.now(2), "--ddl-timeout", "1", "--retries", "1"])
            .args(["--jobs", "2"])
            .spawn();
        // 1 s lock_timeout, one retry after a short backoff: well under 20 s.
        finish(child, Duration::from_secs(20))
    });
    assert_eq!(out.code, 3, "{out:?}");
    let errors: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{}", out.stderr);
    assert!(errors[0].contains("tenant lic") && errors[0].contains("lic_schema.user_events"), "{}", out.stderr);
    assert!(!out.stderr.contains("canceling statement"), "a raw PostgreSQL message:\n{}", out.stderr);
    let doc = out.json();
    assert_eq!(entry(&doc, "lic")["outcome"], "failed", "{doc:#}");
    assert_eq!(entry(&doc, "lic")["lock_timeout"], true, "{doc:#}");
    assert_eq!(entry(&doc, "hdfc")["outcome"], "ok", "{doc:#}");
    assert_eq!(doc["summary"]["failures"], 1, "{doc:#}");
    assert_window(&db, &cal, "hdfc", 0, 5);
    // Each partition is its own transaction: lic's other tables are done,
    // the blocked one is exactly as it was.
    for (schema, table) in tables("lic") {
        let to = if table == "user_events" { 3 } else { 5 };
        assert_eq!(monthly(&db, &schema, &table), expected(&cal, &table, 0, to), "{schema}.{table}");
    }
    let events_after: Vec<String> =
        tenant_catalog(&db, "lic").into_iter().filter(|x| x.contains("user_events")).collect();
    assert_eq!(events_after, events_before, "lic_schema.user_events was half rolled over");

    // With --wait, a tenant lock held past --lock-timeout: exit 3 too.
    let catalog = db.catalog();
    let out = holding(&db, TENANT_LOCK, |_| {
        let args = ["--lock-timeout", "1", "partitions", "rollover", "--wait", "--tenant", "lic", "--now", &cal.now(2)];
        finish(db.provision().in_workspace(&ws).args(args).spawn(), Duration::from_secs(20))
    });
    assert_eq!(out.code, 3, "{out:?}");
    let out = out.one_line_error().stderr_has("tenant lic").stderr_has("--lock-timeout");
    assert!(!out.stderr.contains("canceling statement"), "{}", out.stderr);
    assert_eq!(db.catalog(), catalog);
}

// 7
#[test]
fn dry_run_changes_nothing_but_reports_what_it_would_create() {
    let (db, ws, cal) = provisioned(LIC);
    db.execute(&format!(
        "INSERT INTO lic_schema.user_events (event_type, \"timestamp\") VALUES ('ahead', '{0}'), ('ahead', '{0}')",
        cal.inside(4)
    ));
    let before = db.catalog();
    let doc = rollover(&db, &ws, &["--now", &cal.now(2), "--dry-run"]);
    assert_eq!(db.catalog(), before, "--dry-run changed the catalog");
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events_default"), 2, "--dry-run moved rows");
    // The dry-run document names every partition it would create.
    let text = doc.to_string();
    for name in parts_of(&cal, "lic", 4..=5) {
        assert!(text.contains(&name), "--dry-run --json does not name {name}: {doc:#}");
    }
    assert!(!text.contains(&cal.part("user_events", 6)), "{doc:#}");

    let out =
        db.provision().in_workspace(&ws).args(["partitions", "rollover", "--now", &cal.now(2), "--dry-run"]).success();
    let said = format!("{}{}", out.stdout, out.stderr);
    let would = cal.part("user_events", 4);
    assert!(said.contains(&would), "--dry-run does not name {would}:\n{said}");
    assert_eq!(db.catalog(), before, "--dry-run changed the catalog");
    assert_window(&db, &cal, "lic", 0, 3);
}

// 8
#[test]
fn new_partitions_get_the_parents_security_and_owner() {
    let (db, ws, cal) = provisioned(LIC);
    rollover(&db, &ws, &["--now", &cal.now(2)]);
    let policies = |rel: &str| {
        db.strings(&format!(
            "SELECT polname::text || ' ' || polcmd::text || ' ' || polpermissive::text || ' ' || \
                    (SELECT string_agg(CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r) END, ',' ORDER BY 1) FROM unnest(polroles) r) || ' ' || \
                    coalesce(pg_get_expr(polqual, polrelid), '-') || ' ' || coalesce(pg_get_expr(polwithcheck, polrelid), '-') \
             FROM pg_policy WHERE polrelid = '{rel}'::regclass ORDER BY 1"
        ))
    };
    let facts = |rel: &str| {
        db.scalar(&format!(
            "SELECT relrowsecurity::text || ' ' || relforcerowsecurity::text || ' ' || pg_get_userbyid(relowner) \
             FROM pg_class WHERE oid = '{rel}'::regclass"
        ))
    };
    let triggers = |rel: &str| {
        db.strings(&format!(
            "SELECT tgname::text FROM pg_trigger WHERE tgrelid = '{rel}'::regclass AND NOT tgisinternal ORDER BY 1"
        ))
    };
    let acl = |rel: &str| {
        db.scalar(&format!("SELECT coalesce(relacl::text, '') FROM pg_class WHERE oid = '{rel}'::regclass"))
    };
    for (schema, table) in tables("lic") {
        let parent = format!("{schema}.{table}");
        let provisioned = format!("{schema}.{}", cal.part(&table, 0));
        let parent_owner =
            db.scalar(&format!("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = '{parent}'::regclass"));
        for k in [4, 5] {
            let part = format!("{schema}.{}", cal.part(&table, k));
            if schema == "audit" {
                assert_eq!(parent_owner, "provision_audit");
                assert_eq!(facts(&part), "false false provision_audit", "{part}");
                assert!(policies(&part).is_empty(), "{part} has policies");
                assert!(triggers(&part).contains(&"audit_no_truncate".to_owned()), "{part} lacks the TRUNCATE guard");
            } else {
                assert_eq!(parent_owner, "lic_owner");
                assert_eq!(
                    facts(&part),
                    "true true lic_owner",
                    "{part}: RLS enabled + forced, owned by the parent's owner"
                );
                let parent_policies = policies(&parent);
                assert!(!parent_policies.is_empty(), "{parent} has no policies");
                assert_eq!(policies(&part), parent_policies, "{part} lacks the policies of {parent}");
            }
            assert_eq!(triggers(&part), triggers(&provisioned), "{part}: triggers differ from {provisioned}");
            assert_eq!(acl(&part), acl(&provisioned), "{part}: privileges differ from {provisioned}");
        }
    }
}

// 9
#[test]
fn list_reports_default_rows_and_gaps_and_rollover_fills_the_gap() {
    let (db, ws, cal) = provisioned(LIC_HDFC);
    db.execute(&format!(
        "INSERT INTO lic_schema.user_events (event_type, \"timestamp\") VALUES ('far', '{0}'), ('far', '{0}'), ('far', '{0}')",
        cal.inside(8)
    ));
    let gap = cal.part("session_analytics", 1);
    db.execute(&format!("DROP TABLE lic_schema.{gap}"));

    let list = |db: &TestDb| -> Vec<Value> {
        let doc =
            db.provision().in_workspace(&ws).args(["--json", "partitions", "list", "--tenant", "lic"]).success().json();
        doc["tables"].as_array().unwrap_or_else(|| panic!("no tables array: {doc:#}")).clone()
    };
    let find = |rows: &[Value], table: &str| -> Value {
        let found: Vec<&Value> = rows.iter().filter(|r| r["table"] == table).collect();
        assert_eq!(found.len(), 1, "one row for {table} expected: {rows:#?}");
        found[0].clone()
    };
    let rows = list(&db);
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert!(rows.iter().all(|r| r["tenant"] == "lic"), "--tenant lic listed others: {rows:#?}");
    let events = find(&rows, "lic_schema.user_events");
    assert_eq!(events["default_rows"], 3, "{events:#}");
    assert!(events["gaps"].as_array().is_some_and(|g| g.is_empty()), "{events:#}");
    assert!(events["from"].to_string().contains(cal.ym(0)), "{events:#}");
    assert!(!events["next_rollover"].is_null(), "{events:#}");
    let sessions = find(&rows, "lic_schema.session_analytics");
    let gaps = sessions["gaps"].as_array().unwrap_or_else(|| panic!("{sessions:#}"));
    assert_eq!(gaps.len(), 1, "{sessions:#}");
    assert!(gaps[0].to_string().contains(cal.ym(1)), "the gap should be {}: {sessions:#}", cal.ym(1));
    assert_eq!(sessions["default_rows"], 0, "{sessions:#}");
    for table in ["lic_schema.video_analytics", "audit.lic_audit_log"] {
        let row = find(&rows, table);
        assert!(row["gaps"].as_array().is_some_and(|g| g.is_empty()), "{row:#}");
    }

    // Month 1 lies between the oldest partition (0) and the window (2..=5).
    let doc = rollover(&db, &ws, &["--tenant", "lic", "--now", &cal.now(2)]);
    assert!(created(&doc, "lic").contains(&gap), "{doc:#}");
    assert_window(&db, &cal, "lic", 0, 5);
    assert_window(&db, &cal, "hdfc", 0, 3);
    let rows = list(&db);
    for row in &rows {
        assert!(row["gaps"].as_array().is_some_and(|g| g.is_empty()), "{row:#}");
    }
    assert_eq!(find(&rows, "lic_schema.user_events")["default_rows"], 3);
}

// 10
#[test]
fn bad_input_exits_2_and_changes_nothing() {
    let (db, ws, _cal) = provisioned(LIC);
    let before = db.catalog();
    for args in [
        vec!["partitions", "rollover", "--now", "notadate"],
        vec!["partitions", "rollover", "--tenant", "BAD"],
        vec!["partitions", "rollover", "--tenant", "nosuch"],
        vec!["partitions", "rollover", "--tenant", "lic", "--tenant", "nosuch"],
        vec!["partitions", "list", "--tenant", "nosuch"],
    ] {
        db.provision().in_workspace(&ws).args(&args).status(2).one_line_error();
    }
    assert_eq!(db.catalog(), before);
}

#[test]
fn premake_of_the_tenant_beats_defaults_beats_the_blueprint() {
    let (db, ws, cal) = provisioned(LIC_HDFC);
    ws.write_config(
        "[defaults]\npremake = 1\n[tenants.lic]\nname = \"LIC\"\npremake = 5\n[tenants.hdfc]\nname = \"HDFC Life\"\n",
    );
    let doc = rollover(&db, &ws, &[]);
    assert_eq!(created(&doc, "lic"), parts_of(&cal, "lic", 4..=5), "{doc:#}");
    assert!(created(&doc, "hdfc").is_empty(), "{doc:#}");
    assert_window(&db, &cal, "lic", 0, 5);
    // A shorter premake never drops partitions ahead.
    assert_window(&db, &cal, "hdfc", 0, 3);
}

/// Waits (polling the catalog, at most 30 s) until some session waits for a
/// lock on `table`.
fn wait_for_lock_wait(db: &TestDb, table: &str) {
    let start = Instant::now();
    let sql = format!("SELECT count(*)::text FROM pg_locks WHERE NOT granted AND relation = '{table}'::regclass");
    while db.scalar(&sql) == "0" {
        assert!(start.elapsed() < Duration::from_secs(30), "nobody waited for {table} within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// 13
#[test]
fn a_row_written_into_an_empty_default_after_the_plan_is_moved_by_a_retry() {
    let (db, ws, cal) = provisioned(LIC);
    // The plan reads the DEFAULT partitions' files: empty, so it moves no rows.
    let doc = rollover(&db, &ws, &["--now", &cal.now(2), "--dry-run"]);
    let plan = doc["plan"]["lic"].as_array().unwrap_or_else(|| panic!("no plan for lic: {doc:#}"));
    assert!(!plan.is_empty() && plan.iter().all(|a| a["kind"] != "move"), "{doc:#}");
    let (locked_tx, locked_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let late = format!(
        "INSERT INTO lic_schema.user_events (event_type, \"timestamp\") VALUES ('late', '{}'); COMMIT",
        cal.inside(5)
    );
    let out = std::thread::scope(|scope| {
        let (db, late) = (&db, &late);
        let writer = scope.spawn(move || {
            db.with(async |c| {
                c.batch_execute("BEGIN; LOCK TABLE lic_schema.user_events IN ACCESS EXCLUSIVE MODE").await.unwrap();
                locked_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                c.batch_execute(late).await.unwrap();
            })
        });
        locked_rx.recv().unwrap();
        let args = ["--json", "partitions", "rollover", "--now", &cal.now(2), "--ddl-timeout", "60"];
        let child = db.provision().in_workspace(&ws).args(args).spawn();
        // The run has planned once it waits for the table: only then does
        // the row land in the DEFAULT partition (which the plan saw empty).
        wait_for_lock_wait(db, "lic_schema.user_events");
        go_tx.send(()).unwrap();
        writer.join().unwrap();
        finish(child, Duration::from_secs(60))
    });
    assert_eq!(out.code, 0, "{out:?}");
    let doc = out.json();
    assert_eq!(entry(&doc, "lic")["outcome"], "ok", "{doc:#}");
    assert_eq!(entry(&doc, "lic")["rows_moved"], 1, "{doc:#}");
    assert_window(&db, &cal, "lic", 0, 5);
    assert_eq!(count(&db, "SELECT FROM lic_schema.user_events_default"), 0);
    let month5 = cal.part("user_events", 5);
    assert_eq!(count(&db, &format!("SELECT FROM lic_schema.{month5} WHERE event_type = 'late'")), 1);
}
