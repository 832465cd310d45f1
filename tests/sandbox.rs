//! The embedded sandbox: lifecycle, reuse, crash recovery and concurrent starts
//! against real PostgreSQL binaries.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use provision::{Sandbox, SandboxStatus, Started};

async fn select_one(sandbox: &Sandbox) {
    let client = sandbox.target().connect().await.expect("connect through target()");
    let row = client.query_one("select 1", &[]).await.expect("select 1");
    assert_eq!(row.get::<_, i32>(0), 1);
}

async fn select_one_via_url(sandbox: &Sandbox) {
    let config: tokio_postgres::Config = sandbox.url().parse().expect("url() parses");
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.expect("connect through url()");
    tokio::spawn(connection);
    let row = client.query_one("select current_database()", &[]).await.expect("query");
    assert_eq!(row.get::<_, String>(0), "provision");
}

/// Stops the server even when an assertion fails, so no test leaks a postmaster.
struct DestroyOnDrop(Sandbox);

impl Drop for DestroyOnDrop {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

/// A temp dir the `postgres` user can enter when the tests run as root
/// (tempfile already makes them 0755; this does not rely on it).
fn reachable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

async fn wait_until_stopped(sandbox: &Sandbox) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while sandbox.status().expect("status") != SandboxStatus::Stopped {
        assert!(Instant::now() < deadline, "the killed postmaster is still reported running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn lifecycle_reuse_and_crash_recovery() {
    let dir = reachable_tempdir();
    let sandbox = Sandbox::in_dir(dir.path(), None);
    let _cleanup = DestroyOnDrop(sandbox.clone());
    assert_eq!(sandbox.status().unwrap(), SandboxStatus::NotCreated);
    assert!(!sandbox.stop().unwrap(), "stopping a sandbox that does not exist");

    let first = sandbox.start().await.expect("first start");
    assert!(first.initialized && first.started && first.created_database, "{first:?}");
    select_one(&sandbox).await;
    select_one_via_url(&sandbox).await;
    let SandboxStatus::Running { pid, port } = sandbox.status().unwrap() else {
        panic!("not running after start");
    };
    assert_eq!(port, 5432);

    let again = sandbox.start().await.expect("second start");
    assert_eq!(again, Started::default(), "a running sandbox is reused");
    assert!(!again.changed());
    assert_eq!(sandbox.status().unwrap(), SandboxStatus::Running { pid, port });

    assert!(sandbox.stop().unwrap());
    assert_eq!(sandbox.status().unwrap(), SandboxStatus::Stopped);
    assert!(!sandbox.stop().unwrap(), "stopping twice");

    let restarted = sandbox.start().await.expect("start after stop");
    assert_eq!(restarted, Started { started: true, ..Started::default() });
    select_one(&sandbox).await;

    // A crash leaves postmaster.pid and the socket file behind.
    let SandboxStatus::Running { pid, .. } = sandbox.status().unwrap() else {
        panic!("not running after restart");
    };
    let killed = Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(killed.success());
    wait_until_stopped(&sandbox).await;
    let recovered = sandbox.start().await.expect("start after kill -9");
    assert!(recovered.started && !recovered.initialized, "{recovered:?}");
    select_one(&sandbox).await;

    sandbox.destroy().expect("destroy");
    assert!(!sandbox.root().exists());
    assert_eq!(sandbox.status().unwrap(), SandboxStatus::NotCreated);
}

#[tokio::test]
async fn concurrent_starts_initialize_once() {
    // The temp dir itself is the root, so as root it is chowned to postgres.
    let dir = tempfile::tempdir().expect("tempdir");
    let a = Sandbox::new(dir.path(), None);
    let b = Sandbox::new(dir.path(), None);
    let _cleanup = DestroyOnDrop(a.clone());
    let (first, second) = tokio::join!(a.start(), b.start());
    let (first, second) = (first.expect("first start"), second.expect("second start"));
    assert!(first.initialized ^ second.initialized, "initdb ran once: {first:?} {second:?}");
    assert!(first.started ^ second.started, "{first:?} {second:?}");
    assert!(first.created_database ^ second.created_database, "{first:?} {second:?}");
    select_one(&a).await;
    a.destroy().expect("destroy");
}

#[tokio::test]
async fn unreachable_directory_is_reported_as_root() {
    if !is_root() {
        return;
    }
    // A 0700 directory owned by root: the postgres user cannot enter it.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let sandbox = Sandbox::in_dir(dir.path(), None);
    let _cleanup = DestroyOnDrop(sandbox.clone());
    let error = sandbox.start().await.expect_err("start must fail");
    let message = error.to_string();
    assert!(message.contains("postgres cannot write to"), "{message}");
    assert!(message.contains(&sandbox.root().display().to_string()), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert_eq!(provision::error::exit_code_of(&error), provision::error::ExitCode::Unavailable);
    assert!(!Path::new(&sandbox.data_dir()).exists(), "no initdb");
}
