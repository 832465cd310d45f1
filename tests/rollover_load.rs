//! `partitions rollover` beside live traffic (issue 11, item 6): readers and
//! writers loop on every partitioned table of a tenant while one rollover
//! creates partitions, moves rows out of the DEFAULT partition and applies
//! retention. No client may see an error (the old single-transaction
//! rollover deadlocked readers: it held ACCESS EXCLUSIVE on the DEFAULT
//! partition from ATTACH, then asked for ACCESS EXCLUSIVE on the parent for
//! the retention DETACH, while readers lock parent, then partitions), and
//! the catalog must show that the work really happened. The bench version,
//! with pgbench and 8 clients per table, is bench/rollover_under_load.sh.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use support::{TestDb, Workspace};

/// The tenant's partitioned tables: (schema, table, owner, a statement that writes one row now).
fn tables(code: &str) -> Vec<(String, String, String, String)> {
    let schema = format!("{code}_schema");
    let owner = format!("{code}_owner");
    vec![
        (
            schema.clone(),
            "user_events".into(),
            owner.clone(),
            format!("INSERT INTO {schema}.user_events (event_type) VALUES ('live')"),
        ),
        (
            schema.clone(),
            "session_analytics".into(),
            owner.clone(),
            format!("INSERT INTO {schema}.session_analytics (event_type) VALUES ('live')"),
        ),
        (
            schema.clone(),
            "video_analytics".into(),
            owner,
            format!("INSERT INTO {schema}.video_analytics DEFAULT VALUES"),
        ),
        (
            "audit".into(),
            format!("{code}_audit_log"),
            "provision_audit".into(),
            format!(
                "INSERT INTO audit.{code}_audit_log (table_name, record_id, operation) VALUES ('live', 'x', 'INSERT')"
            ),
        ),
    ]
}

/// `YYYY-MM-01` and `YYYY_MM` of month k relative to the server clock's month.
fn month(db: &TestDb, k: i32) -> (String, String) {
    let row = db.scalar(&format!(
        "SELECT to_char(m, 'YYYY-MM-DD') || '|' || to_char(m, 'YYYY_MM') \
         FROM (SELECT date_trunc('month', localtimestamp) + {k} * interval '1 month' AS m) x"
    ));
    let (first, suffix) = row.split_once('|').unwrap();
    (first.to_owned(), suffix.to_owned())
}

/// Partitions for months `ks` as a database that has run for a while has
/// them: created by the parent's owner, the audit log's guards completed by
/// audit.ensure_audit_log as provisioning does.
fn backfill(db: &TestDb, code: &str, ks: std::ops::RangeInclusive<i32>) {
    for (schema, table, owner, _) in tables(code) {
        for k in ks.clone() {
            let ((lo, suffix), (hi, _)) = (month(db, k), month(db, k + 1));
            db.execute(&format!(
                "SET ROLE {owner}; CREATE TABLE {schema}.{table}_p{suffix} PARTITION OF {schema}.{table} \
                 FOR VALUES FROM ('{lo}') TO ('{hi}'); RESET ROLE"
            ));
        }
    }
    db.execute(&format!("SELECT audit.ensure_audit_log('{code}')"));
}

fn relation_exists(db: &TestDb, qualified: &str) -> bool {
    db.scalar(&format!("SELECT (to_regclass('{qualified}') IS NOT NULL)::text")) == "true"
}

fn attached_to(db: &TestDb, qualified: &str) -> String {
    db.scalar(&format!(
        "SELECT coalesce((SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = '{qualified}'::regclass), '')"
    ))
}

/// Runs `sql` in a loop on its own connection until `stop`, counting
/// successes and keeping every error.
fn client_loop(
    url: String,
    sql: String,
    ready: Arc<Barrier>,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    errors: Arc<Mutex<Vec<String>>>,
) {
    support::runtime().block_on(async move {
        let target = provision::connection::resolve(Some(&url), &|_| None).unwrap().expect("a target");
        let client = target.connect().await.expect("connect a load client");
        client.simple_query(&sql).await.expect("the load statement works before the rollover");
        ready.wait();
        while !stop.load(Ordering::SeqCst) {
            match client.simple_query(&sql).await {
                Ok(_) => {
                    done.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => errors.lock().unwrap().push(format!("{sql}: {e:?}")),
            }
        }
    });
}

#[test]
fn rollover_under_readers_and_writers_gives_no_client_an_error_and_does_all_its_work() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.hdfc]\nname = \"HDFC Life\"\nretention = \"1 month\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    // Months -4..-1 exist as in a database that has run for months; with
    // retention 1 month the server clock releases -4..-2 and keeps -1.
    backfill(&db, "hdfc", -4..=-1);
    let (ahead, ahead_suffix) = month(&db, 5);
    let (now, _) = month(&db, 2);
    let now = format!("{}-05", &now[..7]);
    // Rows waiting in each DEFAULT partition for month 5, which the rollover creates.
    for (schema, table, _, _) in tables("hdfc") {
        let column = if table == "video_analytics" { "started_at" } else { "timestamp" };
        let insert = match table.as_str() {
            "video_analytics" => format!("INSERT INTO {schema}.{table} ({column}) SELECT timestamp '{ahead}' + g * interval '1 hour' FROM generate_series(1, 5) g"),
            t if t.ends_with("_audit_log") => format!("INSERT INTO {schema}.{table} (table_name, record_id, operation, {column}) SELECT 'ahead', g::text, 'INSERT', timestamp '{ahead}' + g * interval '1 hour' FROM generate_series(1, 5) g"),
            _ => format!("INSERT INTO {schema}.{table} (event_type, {column}) SELECT 'ahead', timestamp '{ahead}' + g * interval '1 hour' FROM generate_series(1, 5) g"),
        };
        db.execute(&insert);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let statements: Vec<String> = tables("hdfc")
        .into_iter()
        .flat_map(|(schema, table, _, write)| [format!("SELECT count(*) FROM {schema}.{table}"), write])
        .collect();
    let ready = Arc::new(Barrier::new(statements.len() + 1));
    let clients: Vec<_> = statements
        .into_iter()
        .map(|sql| {
            let (url, ready, stop, done, errors) =
                (db.url.clone(), ready.clone(), stop.clone(), done.clone(), errors.clone());
            std::thread::spawn(move || client_loop(url, sql, ready, stop, done, errors))
        })
        .collect();
    ready.wait();
    let before = done.load(Ordering::SeqCst);
    let out = db
        .provision()
        .in_workspace(&ws)
        .args(["--json", "partitions", "rollover", "--now", &now, "--ddl-timeout", "3"])
        .output();
    let during = done.load(Ordering::SeqCst) - before;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    let errors = errors.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "{} client errors, e.g. {:#?}\nrollover: {out:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(during > 0, "no client statement completed while the rollover ran");

    for (schema, table, _, _) in tables("hdfc") {
        let parent = format!("{schema}.{table}");
        // Created and attached: months 4..=5 (--now month 2, premake 3).
        let made = format!("{schema}.{table}_p{ahead_suffix}");
        assert_eq!(attached_to(&db, &made), parent, "{made} is not attached to {parent}");
        let moved = db.scalar(&format!("SELECT count(*)::text FROM ONLY {made}"));
        assert_eq!(moved, "5", "{made} should hold the 5 rows moved out of the DEFAULT partition");
        let left = db.scalar(&format!("SELECT count(*)::text FROM ONLY {schema}.{table}_default"));
        assert_eq!(left, "0", "{schema}.{table}_default still holds rows of month 5");
        // Retention by the server clock: -4..-2 gone, -1 and the current month kept.
        for k in -4..=-2 {
            let old = format!("{schema}.{table}_p{}", month(&db, k).1);
            assert!(!relation_exists(&db, &old), "{old} should have been detached and dropped");
        }
        for k in [-1, 0] {
            let kept = format!("{schema}.{table}_p{}", month(&db, k).1);
            assert_eq!(attached_to(&db, &kept), parent, "{kept} must stay: the server clock keeps it");
        }
    }
    // shared.data_retention_policies archives user_events and the audit log
    // (archive_before_delete); the two tables it does not name are dropped.
    for k in -4..=-2 {
        let suffix = month(&db, k).1;
        assert!(relation_exists(&db, &format!("hdfc_archive.user_events_p{suffix}")));
        assert!(relation_exists(&db, &format!("audit_archive.hdfc_audit_log_p{suffix}")));
        assert!(!relation_exists(&db, &format!("hdfc_archive.session_analytics_p{suffix}")));
    }
    let doc = out.json();
    assert_eq!(doc["summary"]["dropped"], 6, "{doc:#}");
    assert_eq!(doc["tenants"][0]["archived"].as_array().map(Vec::len), Some(6), "{doc:#}");
    assert_eq!(doc["summary"]["rows_moved"], 20, "{doc:#}");
}
