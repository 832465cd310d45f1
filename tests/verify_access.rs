//! `provision verify` sees every way in (issue 11, items 7, 8 and 10): role
//! memberships that lead from one tenant's role to another's (or to anything
//! that reads every tenant), audit guards tampered with on a partition, and
//! materialized and definer views that RLS never filters.
//!
//! Tenant roles are cluster-wide and every test of this binary shares one
//! cluster, so each test that changes a role uses tenant codes of its own.
//! Each hole is first shown to be real (a login reads rows it must not, a
//! guard no longer fires), then verify must name it.

mod support;
mod verify_helpers;

use support::{TestDb, Workspace};
use verify_helpers::{findings_of, names_all, provisioned, the, verify, Finding};

const PASSWORD: &str = "login-pw";

fn tenant_id(db: &TestDb, code: &str) -> String {
    db.scalar(&format!("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = '{code}'"))
}

fn is_member(db: &TestDb, member: &str, role: &str) -> bool {
    db.scalar(&format!("SELECT pg_has_role('{member}', '{role}', 'MEMBER')::text")) == "true"
}

/// A LOGIN role of this test, granted `<code>_app` by `provision tenant grant`.
fn app_login(db: &TestDb, ws: &Workspace, code: &str) -> String {
    let login = format!("login_{}", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    db.provision().in_workspace(ws).args(["tenant", "grant", code, &login]).success();
    login
}

/// Rows of `table` a login sees with `app.tenant_id` set to `id`, in one transaction.
fn rows_seen(db: &TestDb, login: &str, id: &str, sql: &str) -> Result<i64, String> {
    db.as_login(login, PASSWORD, async |c| {
        c.batch_execute("BEGIN").await.unwrap();
        c.query_one("SELECT set_config('app.tenant_id', $1, true)", &[&id]).await.unwrap();
        let seen = c.query_one(&format!("SELECT count(*) FROM ({sql}) q"), &[]).await;
        c.batch_execute("ROLLBACK").await.unwrap();
        seen.map(|r| r.get::<_, i64>(0)).map_err(|e| format!("{e:?}"))
    })
}

// ---------------------------------------------------------------------------
// Item 7: role memberships between tenants
// ---------------------------------------------------------------------------

/// `GRANT m1hdfc_ro TO m1lic_app`: a login granted only m1lic_app sets
/// app.tenant_id to hdfc's (predictable) UUID and reads hdfc's rows. Verify
/// names both roles, under lic, and under hdfc when only hdfc is checked.
#[test]
fn another_tenants_read_only_role_granted_to_an_app_role_is_a_roles_finding() {
    let (db, ws) = provisioned("m1");
    let login = app_login(&db, &ws, "m1lic");
    let hdfc = tenant_id(&db, "m1hdfc");
    let before = rows_seen(&db, &login, &hdfc, "SELECT 1 FROM m1hdfc_schema.users");
    assert!(before.is_err(), "without the grant hdfc's schema is closed: {before:?}");
    db.execute("GRANT m1hdfc_ro TO m1lic_app");
    assert_eq!(rows_seen(&db, &login, &hdfc, "SELECT 1 FROM m1hdfc_schema.users"), Ok(1), "the hole is real");

    let (_, findings) = verify(&db, &ws, &[], 1);
    let f = the(&findings, "m1lic", "roles", "role", "m1lic_app");
    names_all(f, &["m1lic_app", "m1hdfc_ro", "another tenant"]);
    let (_, findings) = verify(&db, &ws, &["--tenant", "m1hdfc"], 1);
    let f = the(&findings, "m1hdfc", "roles", "role", "m1lic_app");
    names_all(f, &["m1lic_app", "m1hdfc_ro"]);
}

/// Each variant the issue names, one role pair each: (member, granted role).
fn membership_is_named(prefix: &str, member: &str, role: &str, why: &str) {
    let (db, ws) = provisioned(prefix);
    let (member, role) = (format!("{prefix}{member}"), format!("{prefix}{role}"));
    db.execute(&format!("GRANT {role} TO {member}"));
    assert!(is_member(&db, &member, &role));
    let (_, findings) = verify(&db, &ws, &[], 1);
    let scope = member.rsplit_once('_').unwrap().0;
    let f = the(&findings, scope, "roles", "role", &member);
    names_all(f, &[&member, &role, why]);
}

#[test]
fn another_tenants_app_role_granted_to_an_app_role_is_a_roles_finding() {
    membership_is_named("m2", "hdfc_app", "lic_app", "another tenant");
}

#[test]
fn another_tenants_owner_granted_to_an_owner_is_a_roles_finding() {
    membership_is_named("m3", "hdfc_owner", "lic_owner", "another tenant");
}

/// By design a tenant role is a member of its group role only; the owner
/// made a member of its own tenant's app role is not by design.
#[test]
fn the_same_tenants_app_role_granted_to_its_owner_is_a_roles_finding() {
    membership_is_named("m4", "lic_owner", "lic_app", "same tenant");
}

/// A path through a role of no tenant is still a path; the finding names
/// the role in between.
#[test]
fn a_membership_path_through_another_role_is_a_roles_finding() {
    let (db, ws) = provisioned("m5");
    db.execute("CREATE ROLE m5_bridge NOLOGIN; GRANT m5_bridge TO m5lic_app; GRANT m5hdfc_ro TO m5_bridge");
    let (_, findings) = verify(&db, &ws, &[], 1);
    let f = the(&findings, "m5lic", "roles", "role", "m5lic_app");
    names_all(f, &["m5lic_app", "m5hdfc_ro", "m5_bridge"]);
}

/// Membership in a role that holds a privilege on another tenant's objects,
/// even with NOINHERIT (a member may always SET ROLE): the login reads
/// hdfc's rows after SET ROLE, and verify names the role it went through.
#[test]
fn membership_in_a_role_with_privileges_on_another_tenant_is_a_privileges_finding() {
    let (db, ws) = provisioned("m6");
    let login = app_login(&db, &ws, "m6lic");
    db.execute(
        "CREATE ROLE m6_reader NOLOGIN;
         GRANT USAGE ON SCHEMA m6hdfc_schema TO m6_reader;
         GRANT SELECT ON ALL TABLES IN SCHEMA m6hdfc_schema TO m6_reader;
         ALTER ROLE m6lic_app NOINHERIT; GRANT m6_reader TO m6lic_app",
    );
    let hdfc = tenant_id(&db, "m6hdfc");
    let read = db.as_login(&login, PASSWORD, async |c| {
        c.batch_execute("SET ROLE m6_reader").await.unwrap();
        c.query_one("SELECT set_config('app.tenant_id', $1, false)", &[&hdfc]).await.unwrap();
        c.query_one("SELECT count(*) FROM m6hdfc_schema.users", &[]).await.map(|r| r.get::<_, i64>(0))
    });
    assert_eq!(read.map_err(|e| format!("{e:?}")), Ok(1), "the hole is real");

    let (_, findings) = verify(&db, &ws, &[], 1);
    let f = the(&findings, "m6lic", "privileges", "table", "m6hdfc_schema.users");
    names_all(f, &["m6lic_app", "m6_reader"]);
    let f = the(&findings, "m6lic", "privileges", "schema", "m6hdfc_schema");
    names_all(f, &["m6lic_app", "m6_reader"]);
}

/// A fresh database has no roles or privileges finding: each tenant role is
/// a member of its group role, and verify knows that is by design.
#[test]
fn the_designed_memberships_are_clean() {
    let (db, ws) = provisioned("m7");
    assert!(is_member(&db, "m7lic_app", "provision_tenant_apps"));
    let out = db.provision().in_workspace(&ws).args(["verify", "--format", "json"]).output();
    let wrong: Vec<Finding> =
        findings_of(&out).into_iter().filter(|f| f.check == "roles" || f.check == "privileges").collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

// ---------------------------------------------------------------------------
// Item 8: the audit guards on every audit partition, archived ones included
// ---------------------------------------------------------------------------

/// Runs `sql` as superuser in a transaction that is rolled back; the error if any.
fn try_and_roll_back(db: &TestDb, sql: &str) -> Result<(), String> {
    db.with(async |c| {
        c.batch_execute("BEGIN").await.unwrap();
        let result = c.batch_execute(sql).await.map_err(|e| format!("{e:?}"));
        c.batch_execute("ROLLBACK").await.unwrap();
        result
    })
}

#[test]
fn a_disabled_append_only_guard_on_an_audit_partition_is_an_audit_finding() {
    let (db, ws) = provisioned("g1");
    // The partition that holds the audit rows written while building g1lic.
    let partition = db.scalar("SELECT tableoid::regclass::text FROM audit.g1lic_audit_log LIMIT 1");
    assert!(partition.starts_with("audit.g1lic_audit_log_p"), "{partition}");
    let rewrite = format!("UPDATE {partition} SET table_name = 'forged'");
    assert!(try_and_roll_back(&db, &rewrite).is_err(), "the guard holds before");
    db.execute(&format!("ALTER TABLE {partition} DISABLE TRIGGER audit_append_only"));
    assert_eq!(try_and_roll_back(&db, &rewrite), Ok(()), "the hole is real");

    let (_, findings) = verify(&db, &ws, &[], 1);
    let f = the(&findings, "g1lic", "audit", "table", &partition);
    names_all(f, &["audit_append_only", "disabled"]);
    assert!(findings.iter().all(|f| f.scope != "g1hdfc"), "{findings:#?}");
}

/// ENABLE REPLICA leaves the guard asleep in every ordinary session.
#[test]
fn a_guard_enabled_for_replicas_only_is_an_audit_finding() {
    let (db, ws) = provisioned("g2");
    let partition = db.scalar("SELECT tableoid::regclass::text FROM audit.g2lic_audit_log LIMIT 1");
    db.execute(&format!("ALTER TABLE {partition} ENABLE REPLICA TRIGGER audit_append_only"));
    assert_eq!(try_and_roll_back(&db, &format!("DELETE FROM {partition}")), Ok(()), "the hole is real");
    let (_, findings) = verify(&db, &ws, &[], 1);
    names_all(the(&findings, "g2lic", "audit", "table", &partition), &["audit_append_only", "disabled"]);
}

#[test]
fn a_dropped_truncate_guard_on_the_default_audit_partition_is_an_audit_finding() {
    let (db, ws) = provisioned("g3");
    let truncate = "TRUNCATE audit.g3lic_audit_log_default";
    assert!(try_and_roll_back(&db, truncate).is_err(), "the guard holds before");
    db.execute("DROP TRIGGER audit_no_truncate ON audit.g3lic_audit_log_default");
    assert_eq!(try_and_roll_back(&db, truncate), Ok(()), "the hole is real");

    let (_, findings) = verify(&db, &ws, &[], 1);
    let f = the(&findings, "g3lic", "audit", "table", "audit.g3lic_audit_log_default");
    names_all(f, &["audit_no_truncate", "missing"]);
}

/// An audit partition archived as rollover does it (DETACH, SET SCHEMA
/// audit_archive) loses the cloned row guard: its rows can be rewritten.
#[test]
fn an_archived_audit_partition_without_its_guards_is_an_audit_finding() {
    let (db, ws) = provisioned("g4");
    db.execute(
        "CREATE TABLE audit.g4lic_audit_log_p2020_01 PARTITION OF audit.g4lic_audit_log
             FOR VALUES FROM ('2020-01-01') TO ('2020-02-01');
         CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit.g4lic_audit_log_p2020_01
             FOR EACH STATEMENT EXECUTE FUNCTION audit.forbid_change();
         ALTER TABLE audit.g4lic_audit_log DETACH PARTITION audit.g4lic_audit_log_p2020_01;
         CREATE SCHEMA IF NOT EXISTS audit_archive;
         ALTER TABLE audit.g4lic_audit_log_p2020_01 SET SCHEMA audit_archive;",
    );
    let guards = db.strings(
        "SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'audit_archive.g4lic_audit_log_p2020_01'::regclass",
    );
    assert_eq!(guards, ["audit_no_truncate"], "the row guard went with DETACH");

    let (_, findings) = verify(&db, &ws, &[], 1);
    let f = the(&findings, "g4lic", "audit", "table", "audit_archive.g4lic_audit_log_p2020_01");
    names_all(f, &["audit_append_only", "missing"]);
}

// ---------------------------------------------------------------------------
// Item 10: materialized views and views that RLS does not filter
// ---------------------------------------------------------------------------

/// A materialized view of users, filled as superuser (so holding the admin
/// row), owned by the tenant's owner and readable by `<code>_app`.
fn plant_matview(db: &TestDb, code: &str) {
    db.execute(&format!(
        "CREATE MATERIALIZED VIEW {code}_schema.planted AS SELECT user_id, email FROM {code}_schema.users;
         ALTER MATERIALIZED VIEW {code}_schema.planted OWNER TO {code}_owner;
         GRANT SELECT ON {code}_schema.planted TO {code}_app;"
    ));
}

#[test]
fn a_materialized_view_app_roles_can_select_is_an_rls_finding() {
    let (db, ws) = provisioned("v1");
    plant_matview(&db, "v1lic");
    let login = app_login(&db, &ws, "v1lic");
    assert_eq!(rows_seen(&db, &login, "", "SELECT 1 FROM v1lic_schema.users"), Ok(0), "RLS filters the table");
    assert_eq!(rows_seen(&db, &login, "", "SELECT 1 FROM v1lic_schema.planted"), Ok(1), "the hole is real");

    let (_, findings) = verify(&db, &ws, &[], 1);
    let f = the(&findings, "v1lic", "rls", "materialized view", "v1lic_schema.planted");
    names_all(f, &["v1lic_app", "no row level security"]);
    assert!(!f.problem.contains("v1lic_ro"), "ro was not granted it: {f:#?}");
}

/// A view that is not security_invoker reads the materialized view with its
/// owner's rights: the app role reads through it what it may not read
/// directly. The same view with security_invoker is no way in.
#[test]
fn a_definer_view_over_a_materialized_view_is_an_rls_finding() {
    let (db, ws) = provisioned("v2");
    plant_matview(&db, "v2lic");
    db.execute(
        "REVOKE SELECT ON v2lic_schema.planted FROM v2lic_app;
         CREATE VIEW v2lic_schema.planted_view AS SELECT * FROM v2lic_schema.planted;
         CREATE VIEW v2lic_schema.planted_invoker WITH (security_invoker) AS SELECT * FROM v2lic_schema.planted;
         ALTER VIEW v2lic_schema.planted_view OWNER TO v2lic_owner;
         ALTER VIEW v2lic_schema.planted_invoker OWNER TO v2lic_owner;
         GRANT SELECT ON v2lic_schema.planted_view, v2lic_schema.planted_invoker TO v2lic_app;",
    );
    let login = app_login(&db, &ws, "v2lic");
    assert!(rows_seen(&db, &login, "", "SELECT 1 FROM v2lic_schema.planted").is_err());
    assert!(rows_seen(&db, &login, "", "SELECT 1 FROM v2lic_schema.planted_invoker").is_err());
    assert_eq!(rows_seen(&db, &login, "", "SELECT 1 FROM v2lic_schema.planted_view"), Ok(1), "the hole is real");

    let (_, findings) = verify(&db, &ws, &[], 1);
    let f = the(&findings, "v2lic", "rls", "view", "v2lic_schema.planted_view");
    names_all(f, &["v2lic_app", "v2lic_schema.planted", "security_invoker"]);
    // The structure check reports the extra objects; the invariant only the way in.
    let rls: Vec<&Finding> = findings.iter().filter(|f| f.check == "rls").collect();
    assert_eq!(rls.len(), 1, "only the definer view is a way in:\n{rls:#?}");
}
