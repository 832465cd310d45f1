//! `partitions rollover` beside live traffic (issue 11, item 6): readers and
//! writers loop on every partitioned table of a tenant while one rollover
//! creates partitions, moves rows out of the DEFAULT partition and applies
//! retention. No client may see an error (the old single-transaction
//! rollover deadlocked readers: it held ACCESS EXCLUSIVE on the DEFAULT
//! partition from ATTACH, then asked for ACCESS EXCLUSIVE on the parent for
//! the retention DETACH, while readers lock parent, then partitions), and
//! the catalog must show that the work really happened. The bench version,
//! with pgbench and 8 clients per table, is bench/rollover_under_load.sh.
//! Also here (item 11): a maintenance client killed mid-query leaves no
//! query running on the server.

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
        let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
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
        let (columns, values) = match table.as_str() {
            "video_analytics" => ("started_at", ""),
            t if t.ends_with("_audit_log") => {
                ("table_name, record_id, operation, \"timestamp\"", "'ahead', g::text, 'INSERT', ")
            }
            _ => ("event_type, \"timestamp\"", "'ahead', "),
        };
        db.execute(&format!(
            "INSERT INTO {schema}.{table} ({columns}) \
             SELECT {values}timestamp '{ahead}' + g * interval '1 hour' FROM generate_series(1, 5) g"
        ));
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

/// Holds what `lock_sql` takes in an open transaction on its own thread
/// until the returned sender is dropped or sent to.
fn hold(db: &TestDb, lock_sql: &str) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (url, sql) = (db.url.clone(), format!("BEGIN; {lock_sql}"));
    let holder = std::thread::spawn(move || {
        support::runtime().block_on(async move {
            let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
            let client = target.connect().await.expect("connect the lock holder");
            client.batch_execute(&sql).await.expect("take the lock");
            locked_tx.send(()).unwrap();
            release_rx.recv().ok();
            client.batch_execute("ROLLBACK").await.ok();
        })
    });
    locked_rx.recv().expect("the holder took its lock");
    (release_tx, holder)
}

/// Polls (a condition, not a sleep-as-sync) until `sql` returns `want` or `limit` passes.
fn eventually(db: &TestDb, sql: &str, want: &str, limit: std::time::Duration) -> String {
    let start = std::time::Instant::now();
    loop {
        let got = db.scalar(sql);
        if got == want || start.elapsed() > limit {
            return got;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

// issue 11 item 11: a killed client never leaves its query running
#[test]
fn a_killed_maintenance_client_leaves_no_query_behind() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.hdfc]\nname = \"HDFC Life\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    // A --now with work to do, so the rollover reaches the tenant's lock.
    let now = format!("{}-05", &month(&db, 2).0[..7]);
    let cases = [
        (
            "SELECT pg_advisory_xact_lock(hashtextextended('provision:tenant:hdfc', 0))",
            vec!["--lock-timeout", "600", "partitions", "rollover", "--wait", "--now", &now],
            "%pg_advisory_lock(%",
        ),
        (
            "LOCK TABLE hdfc_schema.user_events_default IN ACCESS EXCLUSIVE MODE",
            vec!["partitions", "list"],
            "%query_to_xml%",
        ),
    ];
    for (lock_sql, args, query) in cases {
        let (release, holder) = hold(&db, lock_sql);
        let mut child = db.provision().in_workspace(&ws).args(&args).spawn();
        let waiting = format!(
            "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() \
             AND query LIKE '{query}' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        );
        let seen = eventually(&db, &waiting, "1", std::time::Duration::from_secs(30));
        assert_eq!(seen, "1", "{args:?} never waited for the held lock");
        child.kill().unwrap();
        child.wait().unwrap();
        // Long before statement_timeout (300 s and more), the server notices.
        let left = eventually(
            &db,
            &waiting.replace(" AND wait_event_type = 'Lock'", ""),
            "0",
            std::time::Duration::from_secs(15),
        );
        assert_eq!(left, "0", "{args:?}: the killed client's query still runs on the server");
        release.send(()).ok();
        holder.join().unwrap();
    }
}
