//! `provision verify` and tenants another provision process is changing
//! (issue 11, item 12): a standalone verify skips them, `--wait` and the
//! verify that ends `up` wait for them, and either way says which; four
//! parallel `up --jobs 2` on an empty database all end clean.

mod support;
mod verify_helpers;

use support::{Outcome, TestDb, Workspace};
use verify_helpers::{findings_of, provisioned, the, verify};

/// `<code>`'s tenant lock, held as a provision process building the tenant
/// holds it, on a connection of the test's own, until released or dropped.
struct TenantLock {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
    key: String,
}

impl TenantLock {
    fn take(db: &TestDb, code: &str) -> TenantLock {
        let runtime = support::runtime();
        let target = provision::resolve(Some(&db.url), &|_| None).unwrap().expect("a target");
        let client = runtime.block_on(target.connect()).expect("connect");
        let key = format!("provision:tenant:{code}");
        runtime.block_on(client.query_one("SELECT pg_advisory_lock(hashtextextended($1, 0))", &[&key])).unwrap();
        TenantLock { runtime, client, key }
    }

    fn release(self) {
        let unlock = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";
        let released = self.runtime.block_on(self.client.query_one(unlock, &[&self.key])).unwrap();
        assert!(released.get::<_, bool>(0));
    }
}

fn codes(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().into())
        .collect()
}

fn advisory_locks(db: &TestDb) -> String {
    db.scalar("SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
}

/// A tenant half built by another process (here: an index not yet made,
/// and its lock held) is skipped, said so, and not blamed; once free it is
/// verified again, and the missing index is found.
#[test]
fn verify_skips_a_tenant_another_process_is_changing() {
    let (db, ws) = provisioned("b1");
    db.execute("DROP INDEX b1lic_schema.idx_users_email");
    let lock = TenantLock::take(&db, "b1lic");
    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "json"]).status(0);
    // JUnit shows the tenant's checks as skipped, not passed.
    let junit = db.provision().in_workspace(&ws).args(["verify", "--format", "junit"]).status(0).stdout;
    lock.release();
    assert!(junit.contains(r#"<testsuite name="b1lic" tests="10" failures="0" skipped="10" time="0.000">"#), "{junit}");
    assert_eq!(junit.matches("<skipped ").count(), 10, "{junit}");
    assert_eq!(codes(&out.json()["skipped"]), ["b1lic"]);
    assert_eq!(codes(&out.json()["tenants"]), ["b1hdfc"]);
    assert!(findings_of(&out).is_empty(), "{}", out.stdout);
    let said = out.stderr_has("verify: skipped b1lic (being changed by another provision process)");
    assert_eq!(advisory_locks(&db), "0", "verify left a lock behind:\n{}", said.stderr);

    let (out, findings) = verify(&db, &ws, &[], 1);
    assert!(codes(&out.json()["skipped"]).is_empty());
    the(&findings, "b1lic", "structure", "index", "b1lic_schema.idx_users_email");
}

/// `verify --wait` waits up to --lock-timeout, then skips what is still busy.
#[test]
fn verify_wait_gives_up_after_the_lock_timeout_and_says_so() {
    let (db, ws) = provisioned("b2");
    let lock = TenantLock::take(&db, "b2lic");
    let wait = ["--lock-timeout", "1", "verify", "--wait", "--format", "json"];
    let out = db.provision().in_workspace(&ws).args(wait).status(0);
    lock.release();
    assert_eq!(codes(&out.json()["skipped"]), ["b2lic"]);
    assert!(codes(&out.json()["waited"]).is_empty());
    out.stderr_has("verify: skipped b2lic");
}

/// `verify --wait` (as `up` ends) waits for the other process to finish
/// with the tenant, then verifies it.
#[test]
fn verify_wait_verifies_the_tenant_once_it_is_free() {
    let (db, ws) = provisioned("b3");
    let lock = TenantLock::take(&db, "b3lic");
    let mut child = db.provision().in_workspace(&ws).args(["verify", "--wait", "--format", "json"]).spawn();
    // Released only once verify is seen waiting for it (pg_locks), or gone.
    let waiting = "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    while db.scalar(waiting) == "0" && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    lock.release();
    let out = Outcome::from(child.wait_with_output().unwrap());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(codes(&out.json()["waited"]), ["b3lic"]);
    assert!(codes(&out.json()["skipped"]).is_empty());
    assert_eq!(codes(&out.json()["tenants"]), ["b3hdfc", "b3lic"]);
    out.stderr_has("verify: waited for b3lic");
}

/// Four `up --jobs 2` at once on an empty database: each ends verifying
/// tenants the others may still be building, and none reports a problem.
#[test]
fn four_parallel_ups_all_succeed() {
    let db = TestDb::new();
    let ws = Workspace::new(
        "[tenants.p1lic]\nname = \"LIC\"\n[tenants.p1hdfc]\nname = \"HDFC\"\n[tenants.p1icici]\nname = \"ICICI\"\n",
    );
    let runs: Vec<_> = (0..4).map(|_| db.provision().in_workspace(&ws).args(["up", "--jobs", "2"]).spawn()).collect();
    for run in runs {
        let out = Outcome::from(run.wait_with_output().unwrap());
        assert_eq!(out.code, 0, "--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    }
    let latest = std::fs::read_dir(support::repo().join("templates/agent_mitra/tenant"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('V'))
        .count();
    for code in ["p1lic", "p1hdfc", "p1icici"] {
        let version = db.scalar(&format!("SELECT max(version)::text FROM {code}_schema.refinery_schema_history"));
        assert_eq!(version, latest.to_string(), "{code}");
        let admins = db.scalar(&format!("SELECT count(*)::text FROM {code}_schema.users"));
        assert_eq!(admins, "1", "{code}: one administrator");
    }
    assert_eq!(advisory_locks(&db), "0");
    db.provision().in_workspace(&ws).arg("verify").success();
}
