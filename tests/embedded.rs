//! The embedded default: with no URL and no PG* variables, `provision up`
//! starts a private PostgreSQL in ./.provision and reuses it.

mod support;

use support::{Run, Workspace};

#[test]
fn up_without_a_url_uses_the_embedded_sandbox() {
    let ws = Workspace::shipped();
    let first = Run::new().in_workspace(&ws).args(["up", "--jobs", "2"]).success().stdout_has("3 tenants");
    // Two workers' connections, one database: said once.
    assert_eq!(first.stderr.matches("using the embedded PostgreSQL").count(), 1, "{}", first.stderr);
    assert!(ws.path().join(".provision/data/PG_VERSION").exists());
    let url = Run::new().in_workspace(&ws).args(["sandbox", "url"]).success().stdout;
    let psql = std::process::Command::new("psql")
        .args([
            "-X",
            "-At",
            "-d",
            url.trim(),
            "-c",
            "SELECT string_agg(tenant_code, ',' ORDER BY tenant_code) FROM shared.tenants",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&psql.stdout).trim(), "hdfc,icici,lic", "{psql:?}");
    Run::new().in_workspace(&ws).args(["--json", "up"]).success().stdout_has("\"changed\": false");
    Run::new().in_workspace(&ws).args(["sandbox", "status"]).success().stdout_has("running");
    Run::new().in_workspace(&ws).args(["sandbox", "stop"]).success();
    Run::new().in_workspace(&ws).args(["sandbox", "status"]).success().stdout_has("stopped");
    Run::new()
        .in_workspace(&ws)
        .args(["sandbox", "url"])
        .stdout("")
        .status(3)
        .one_line_error()
        .stderr_has("not running");
}
