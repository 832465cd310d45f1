//! Bad input, secrets, locks and connection failures: each exits with its
//! documented code, prints one line, and leaves the database as it was.

mod support;

use support::{Run, TestDb, Workspace};

#[test]
fn bad_tenant_codes_exit_2_and_change_nothing() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    db.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).success();
    let before = db.catalog();
    let too_long = "a".repeat(42);
    for code in [
        "Bad",
        "1lic",
        "lic-x",
        "pg_lic",
        "public",
        "shared",
        "audit",
        "information_schema",
        "provision",
        too_long.as_str(),
        "x;drop",
    ] {
        db.provision()
            .in_workspace(&ws)
            .args(["tenant", "add", code, "--name", "X"])
            .status(2)
            .one_line_error()
            .stderr_has("tenant code");
    }
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "zz", "--name", "X", "--type", "bank"])
        .status(2)
        .one_line_error();
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "zz", "--name", "X", "--blueprint", "nope"])
        .status(2)
        .one_line_error()
        .stderr_has("agent_mitra");
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "undeclared"])
        .status(2)
        .one_line_error()
        .stderr_has("--name");
    assert_eq!(db.catalog(), before);
}

#[test]
fn bad_tenants_toml_exits_2_naming_file_line_and_key() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\nnmae = \"typo\"\n");
    let before = db.catalog();
    db.provision()
        .in_workspace(&ws)
        .arg("up")
        .status(2)
        .one_line_error()
        .stderr_has("tenants.toml:4:")
        .stderr_has("nmae");
    ws.write_config("[tenants.lic]\nname = \"A\"\n\n[tenants.lic]\nname = \"B\"\n");
    db.provision().in_workspace(&ws).arg("up").status(2).one_line_error().stderr_has("tenants.toml:").stderr_has("lic");
    ws.write_config("[tenants.\"Lic\"]\nname = \"A\"\n");
    db.provision().in_workspace(&ws).arg("up").status(2).one_line_error().stderr_has("Lic");
    Run::new()
        .env("DATABASE_URL", &db.url)
        .args(["--config", "/nonexistent/tenants.toml", "up"])
        .status(2)
        .one_line_error()
        .stderr_has("/nonexistent/tenants.toml");
    assert_eq!(db.catalog(), before);
}

#[test]
fn passwords_never_appear_in_output() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    let secret = "S3cret-Pa55word";
    db.execute(&format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'provision_pw_test') THEN CREATE ROLE provision_pw_test LOGIN SUPERUSER PASSWORD '{secret}'; END IF; END $$"
    ));
    // A URL with a password, over TCP if the server listens there, else the socket (trust ignores it).
    let url = db.url.replacen("postgres@", &format!("provision_pw_test:{secret}@"), 1);
    let runs = [
        vec!["--verbose", "up"],
        vec!["--verbose", "--json", "status"],
        vec!["tenant", "list"],
        vec!["tenant", "add", "lic"],
        vec!["tenant", "add", "BAD"],
    ];
    for args in runs {
        let out = Run::new().in_workspace(&ws).env("DATABASE_URL", &url).args(&args).output();
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret), "{args:?} leaked the password:\n{out:?}");
    }
    // A server that is not there: the error names where, never the password.
    let nowhere = format!("postgresql://bob:{secret}@127.0.0.1:1/app");
    let out = Run::new().in_workspace(&ws).env("DATABASE_URL", &nowhere).arg("status").status(3).one_line_error();
    assert!(
        out.stderr.contains("127.0.0.1") && out.stderr.contains("app") && out.stderr.contains("bob"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(secret), "{}", out.stderr);
    let garbage = format!("postgresql://bob:{secret}@host:notaport/app");
    let out = Run::new().in_workspace(&ws).env("DATABASE_URL", &garbage).arg("status").status(2).one_line_error();
    assert!(!out.stderr.contains(secret), "{}", out.stderr);
}

#[test]
fn lock_wait_times_out_with_exit_3_and_changes_nothing() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    db.provision().in_workspace(&ws).arg("migrate").success();
    let before = db.catalog();
    db.with(async |holder| {
        support::begin_holding_tenant_lock(holder, "lic").await;
        let out = db.provision().in_workspace(&ws).args(["--lock-timeout", "1", "tenant", "add", "lic"]).output();
        assert_eq!(out.code, 3, "{out:?}");
        assert!(out.stderr.contains("waiting for tenant lic"), "{}", out.stderr);
        assert!(out.stderr.contains("timed out waiting for the lock on tenant lic"), "{}", out.stderr);
        holder.batch_execute("ROLLBACK").await.unwrap();
    });
    assert_eq!(db.catalog(), before);
}

#[test]
fn every_command_has_help_with_an_example() {
    for args in [
        vec!["up"],
        vec!["migrate"],
        vec!["status"],
        vec!["tenant", "add"],
        vec!["tenant", "list"],
        vec!["tenant", "render"],
        vec!["tenant", "remove"],
        vec!["tenant", "activate"],
        vec!["sandbox", "start"],
        vec!["sandbox", "stop"],
        vec!["sandbox", "status"],
        vec!["sandbox", "url"],
        vec!["keys", "rotate"],
        // The groups too: `provision tenant --help` is where one starts looking.
        vec!["tenant"],
        vec!["db"],
        vec!["partitions"],
        vec!["sandbox"],
        vec!["blueprint"],
        vec!["keys"],
        vec!["retention"],
    ] {
        let out = Run::new().args(&args).arg("--help").success();
        assert!(out.stdout.contains("Example:"), "{args:?} --help has no example:\n{}", out.stdout);
    }
    Run::new().arg("frobnicate").status(2);
}

/// Every row of a tenant's audit log, as text, in a stable order.
fn audit_rows(db: &TestDb, code: &str) -> Vec<String> {
    db.strings(&format!("SELECT l::text FROM audit.{code}_audit_log l ORDER BY audit_id"))
}

#[test]
fn reset_keeps_every_audit_row_and_leaves_no_orphan_roles() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.rsa]\nname = \"A\"\n");
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision().in_workspace(&ws).args(["tenant", "add", "rsb", "--name", "B"]).success();
    db.provision().in_workspace(&ws).args(["tenant", "add", "rsc", "--name", "C"]).success();
    db.execute(
        "UPDATE rsa_schema.users SET first_name = 'Changed'; UPDATE rsb_schema.users SET first_name = 'Changed'",
    );
    db.provision().in_workspace(&ws).args(["tenant", "remove", "rsc", "--yes", "--no-backup"]).success();
    let before: Vec<Vec<String>> = ["rsa", "rsb", "rsc"].iter().map(|c| audit_rows(&db, c)).collect();
    assert!(before.iter().all(|rows| rows.len() >= 2), "{before:?}");

    db.provision()
        .in_workspace(&ws)
        .args(["reset", "--yes", "--confirm", &db.name])
        .success()
        .stdout_has("audit rows of 3 tenants");
    assert_eq!(db.strings("SELECT tenant_code FROM shared.tenants"), ["rsa"]);
    for (code, old) in ["rsa", "rsb", "rsc"].iter().zip(&before) {
        let now = audit_rows(&db, code);
        assert!(old.iter().all(|row| now.contains(row)), "{code}: audit rows were lost\n{old:?}\n{now:?}");
    }
    let roles = db.strings("SELECT rolname::text FROM pg_roles WHERE rolname ~ '^rs[abc]_' ORDER BY 1");
    assert_eq!(roles, ["rsa_app", "rsa_owner", "rsa_ro"], "rsb's roles are orphans once reset forgets rsb");
    let leftovers: Vec<_> = std::fs::read_dir(ws.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers, ["tenants.toml"], "the saved audit rows were removed once restored");
    db.provision().in_workspace(&ws).arg("verify").success();
}
