//! Tenant isolation, proved by connecting as real, non-superuser login roles:
//! row-level security on tables and partitions, schema privileges, the
//! append-only audit trail, and the catalog invariants behind them.

mod support;

use support::{TestDb, Workspace};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

const TWO_TENANTS: &str = "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC Life\"\n";
const PASSWORD: &str = "login-pw";

/// A provisioned database with lic and hdfc, and a login granted lic_app.
fn setup(read_only: bool) -> (TestDb, Workspace, String, String) {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    let login = format!("login_{}", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    let mut grant = db.provision().in_workspace(&ws).args(["tenant", "grant", "lic", &login]);
    if read_only {
        grant = grant.arg("--read-only");
    }
    grant.success();
    let lic_id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'lic'");
    (db, ws, login, lic_id)
}

async fn count(c: &Client, sql: &str) -> i64 {
    c.query_one(&format!("SELECT count(*) FROM ({sql}) q"), &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")).get(0)
}

async fn set_tenant(c: &Client, id: &str) {
    c.query_one("SELECT set_config('app.tenant_id', $1, false)", &[&id]).await.unwrap();
}

fn code_of(e: &tokio_postgres::Error) -> SqlState {
    e.code().cloned().unwrap_or_else(|| panic!("not a database error: {e:?}"))
}

#[test]
fn app_login_sees_its_rows_only_with_its_tenant_setting() {
    let (db, _ws, login, lic_id) = setup(false);
    let hdfc_id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'hdfc'");
    db.as_login(&login, PASSWORD, async |c| {
        assert_eq!(count(c, "SELECT 1 FROM lic_schema.users").await, 0, "unset setting must show no rows");
        set_tenant(c, "").await;
        assert_eq!(count(c, "SELECT 1 FROM lic_schema.users").await, 0, "empty setting must show no rows");
        let denied = c.query("SELECT 1 FROM lic_schema.users WHERE false", &[]).await;
        assert!(denied.is_ok(), "an unset tenant is no error: {denied:?}");
        set_tenant(c, &lic_id).await;
        let before = count(c, "SELECT 1 FROM lic_schema.users").await;
        assert_eq!(before, 1, "the admin user");
        c.batch_execute(
            "INSERT INTO lic_schema.users (email, password_hash, role) VALUES ('app@lic.example', '!', 'guest')",
        )
        .await
        .unwrap();
        c.batch_execute("UPDATE lic_schema.users SET first_name = 'Asha' WHERE email = 'app@lic.example'")
            .await
            .unwrap();
        assert_eq!(count(c, "SELECT 1 FROM lic_schema.users WHERE first_name = 'Asha'").await, 1);
        c.batch_execute("DELETE FROM lic_schema.users WHERE email = 'app@lic.example'").await.unwrap();
        set_tenant(c, &hdfc_id).await;
        assert_eq!(count(c, "SELECT 1 FROM lic_schema.users").await, 0, "another tenant's id sees nothing");
        let err = c
            .batch_execute(
                "INSERT INTO lic_schema.users (email, password_hash, role) VALUES ('x@lic.example', '!', 'guest')",
            )
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "WITH CHECK must refuse: {err:?}");
        let err = c.query("SELECT 1 FROM hdfc_schema.users", &[]).await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{err:?}");
    });
}

#[test]
fn naming_a_partition_directly_bypasses_nothing() {
    let (db, _ws, login, lic_id) = setup(false);
    let hdfc_id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'hdfc'");
    let partition = db.scalar("SELECT 'lic_schema.user_events_p' || to_char(localtimestamp, 'YYYY_MM')");
    db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &lic_id).await;
        c.batch_execute("INSERT INTO lic_schema.user_events (event_type) VALUES ('login')").await.unwrap();
        assert_eq!(count(c, &format!("SELECT 1 FROM {partition}")).await, 1);
        set_tenant(c, "").await;
        assert_eq!(count(c, &format!("SELECT 1 FROM {partition}")).await, 0);
        set_tenant(c, &hdfc_id).await;
        assert_eq!(count(c, &format!("SELECT 1 FROM {partition}")).await, 0);
        assert_eq!(count(c, "SELECT 1 FROM lic_schema.user_events_default").await, 0);
        let err =
            c.batch_execute(&format!("INSERT INTO {partition} (event_type) VALUES ('forged')")).await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{err:?}");
    });
    assert_eq!(db.scalar("SELECT count(*)::text FROM lic_schema.user_events"), "1");
}

#[test]
fn every_write_leaves_exactly_one_audit_row_that_nobody_can_change() {
    let (db, _ws, login, lic_id) = setup(false);
    let user_id = db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &lic_id).await;
        let row = c
            .query_one("INSERT INTO lic_schema.users (email, password_hash, role) VALUES ('audited@lic.example', '!', 'guest') RETURNING user_id::text", &[])
            .await
            .unwrap();
        let id: String = row.get(0);
        c.batch_execute(&format!("UPDATE lic_schema.users SET first_name = 'Ravi' WHERE user_id = '{id}'")).await.unwrap();
        c.batch_execute(&format!("DELETE FROM lic_schema.users WHERE user_id = '{id}'")).await.unwrap();
        for attempt in [
            "UPDATE audit.lic_audit_log SET operation = 'X'",
            "DELETE FROM audit.lic_audit_log",
            "TRUNCATE audit.lic_audit_log",
            "INSERT INTO audit.lic_audit_log (table_name, record_id, operation) VALUES ('users', 'x', 'INSERT')",
            "ALTER TABLE lic_schema.users DISABLE TRIGGER audit_row_change",
            "DROP TRIGGER audit_row_change ON lic_schema.users",
        ] {
            let err = c.batch_execute(attempt).await.expect_err(attempt);
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{attempt}: {err:?}");
        }
        id
    });
    let trail = db.strings(&format!(
        "SELECT operation FROM audit.lic_audit_log WHERE table_name = 'users' AND record_id = '{user_id}' ORDER BY \"timestamp\""
    ));
    assert_eq!(trail, ["INSERT", "UPDATE", "DELETE"]);
    let values = db.scalar(&format!(
        "SELECT (new_values->>'first_name') FROM audit.lic_audit_log WHERE record_id = '{user_id}' AND operation = 'UPDATE'"
    ));
    assert_eq!(values, "Ravi");
    // Even a superuser cannot rewrite history: the guard trigger raises.
    let tampered = db.with(async |c| c.batch_execute("UPDATE audit.lic_audit_log SET operation = 'X'").await);
    assert!(tampered.is_err(), "the append-only guard let a superuser UPDATE");
    let deleted = db.with(async |c| c.batch_execute("DELETE FROM audit.lic_audit_log").await);
    assert!(deleted.is_err(), "the append-only guard let a superuser DELETE");
}

#[test]
fn read_only_login_reads_and_cannot_write() {
    let (db, _ws, login, lic_id) = setup(true);
    db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &lic_id).await;
        assert_eq!(count(c, "SELECT 1 FROM lic_schema.users").await, 1);
        let err = c
            .batch_execute(
                "INSERT INTO lic_schema.users (email, password_hash, role) VALUES ('ro@lic.example', '!', 'guest')",
            )
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE);
    });
}

#[test]
fn catalog_invariants_hold_for_every_tenant_table_and_role() {
    let (db, ws, _login, _) = setup(false);
    let unprotected = db.strings(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname IN ('lic_schema', 'hdfc_schema', 'portal') AND c.relkind IN ('r', 'p') \
           AND c.relname <> 'refinery_schema_history' AND NOT (c.relrowsecurity AND c.relforcerowsecurity) ORDER BY 1",
    );
    assert!(unprotected.is_empty(), "tables or partitions without ENABLE+FORCE RLS: {unprotected:?}");
    let partitions = db.scalar("SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'lic_schema' AND c.relispartition");
    assert!(partitions.parse::<i32>().unwrap() >= 12, "{partitions}");
    let powerful = db.strings("SELECT rolname FROM pg_roles WHERE rolname ~ '^(lic|hdfc)_(owner|app|ro)$' AND (rolsuper OR rolbypassrls OR rolcanlogin)");
    assert!(powerful.is_empty(), "{powerful:?}");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname ~ '^(lic|hdfc)_(owner|app|ro)$'"), "6");
    let owned = db.strings(include_str!("sql/owned_by_app_roles.sql"));
    assert!(owned.is_empty(), "app/ro roles own objects: {owned:?}");
    let foreign = db.strings(include_str!("sql/cross_tenant_privileges.sql"));
    assert!(foreign.is_empty(), "tenant roles with privileges in another tenant's schema: {foreign:?}");
    let audited = db.scalar("SELECT count(*)::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'lic_schema'::regnamespace AND t.tgname = 'audit_row_change' AND NOT c.relispartition");
    assert!(audited.parse::<i32>().unwrap() >= 15, "{audited}");
    assert_eq!(
        db.scalar("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'audit.lic_audit_log'::regclass"),
        "provision_audit"
    );
    let definer = db.scalar("SELECT prosecdef::text || ' ' || array_to_string(proconfig, ',') FROM pg_proc WHERE oid = 'audit.log_row_change'::regproc");
    assert!(definer.starts_with("true search_path="), "{definer}");
    // Tenants created before an upgrade get the same treatment: nothing to redo.
    db.provision().in_workspace(&ws).args(["--json", "up"]).success().stdout_has("\"changed\": false");
}

#[test]
fn grant_needs_an_existing_login_role_and_remove_drops_the_roles() {
    let db = TestDb::new();
    let code = format!("rm{}", db.name.trim_start_matches("t_"));
    let ws = Workspace::new(&format!("[tenants.{code}]\nname = \"Removable\"\n"));
    db.provision().in_workspace(&ws).args(["tenant", "add", &code]).success();
    db.provision().in_workspace(&ws).args(["tenant", "grant", &code, "no_such_login"]).status(2).one_line_error();
    db.provision().in_workspace(&ws).args(["tenant", "grant", "nosuch", "postgres"]).status(2).one_line_error();
    let roles = format!("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE '{code}\\_%'");
    assert_eq!(db.scalar(&roles), "3");
    db.provision().in_workspace(&ws).args(["tenant", "remove", &code, "--yes"]).success();
    assert_eq!(db.scalar(&roles), "0");
    assert_eq!(
        db.scalar(&format!("SELECT (to_regclass('audit.{code}_audit_log') IS NOT NULL)::text")),
        "true",
        "the audit log is kept"
    );
}

/// The dashboard's rows (all but `refreshed_at`), one text per agent.
const DASHBOARD: &str =
    "SELECT (agent_id, agent_code, agent_name, total_policyholders, total_policies, total_premium, \
                         avg_payment_amount, total_payments, last_payment_date)::text \
                         FROM lic_schema.agent_dashboard_metrics ORDER BY agent_id";

/// `setup(false)`, with sample data: 600 policies make three agents per tenant.
fn seeded() -> (TestDb, Workspace, String, String) {
    let (db, ws, login, lic_id) = setup(false);
    db.provision().in_workspace(&ws).args(["seed", "--sample", "600"]).success();
    assert_eq!(db.scalar("SELECT count(*)::text FROM lic_schema.agents"), "3");
    (db, ws, login, lic_id)
}

async fn dashboard(c: &Client) -> Vec<String> {
    let rows = c.query(DASHBOARD, &[]).await.unwrap_or_else(|e| panic!("{DASHBOARD}: {e:?}"));
    rows.iter().map(|r| r.get(0)).collect()
}

#[test]
fn the_dashboard_shows_a_login_only_its_own_tenants_rows() {
    let (db, ws, app, lic_id) = seeded();
    let reader = format!("ro_{}", db.name);
    db.execute(&format!("CREATE ROLE {reader} LOGIN PASSWORD '{PASSWORD}'"));
    db.provision().in_workspace(&ws).args(["tenant", "grant", "lic", &reader, "--read-only"]).success();
    let hdfc_id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'hdfc'");
    db.execute("SELECT lic_schema.refresh_agent_metrics()");
    assert_eq!(db.scalar("SELECT count(*)::text FROM lic_schema.agent_dashboard_metrics"), "3");
    for login in [&app, &reader] {
        db.as_login(login, PASSWORD, async |c| {
            assert_eq!(dashboard(c).await.len(), 0, "{login}: no tenant set must show no rows");
            assert_eq!(count(c, "SELECT 1 FROM lic_schema.agents").await, 0, "as agents");
            set_tenant(c, &hdfc_id).await;
            assert_eq!(dashboard(c).await.len(), 0, "{login}: another tenant's id shows no rows");
            set_tenant(c, &lic_id).await;
            assert_eq!(dashboard(c).await.len(), 3, "{login}: lic's rows");
            // Derived rows: only the refresh writes them.
            for write in [
                "DELETE FROM lic_schema.agent_dashboard_metrics",
                "UPDATE lic_schema.agent_dashboard_metrics SET total_policies = 0",
                "INSERT INTO lic_schema.agent_dashboard_metrics (agent_id) VALUES (gen_random_uuid())",
            ] {
                let err = c.batch_execute(write).await.expect_err(write);
                assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{login} {write}: {err:?}");
            }
        });
    }
    assert_eq!(db.scalar("SELECT count(*)::text FROM lic_schema.agent_dashboard_metrics"), "3");
}

#[test]
fn the_dashboard_refreshes_to_the_same_full_content_from_any_session() {
    let (db, _ws, login, lic_id) = seeded();
    let hdfc_id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'hdfc'");
    let agent_user = db.scalar("SELECT user_id::text FROM lic_schema.agents ORDER BY agent_code LIMIT 1");
    let from_agent = db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &lic_id).await;
        c.query_one("SELECT set_config('app.user_id', $1, false)", &[&agent_user]).await.unwrap();
        c.batch_execute("BEGIN; SELECT lic_schema.refresh_agent_metrics()").await.unwrap();
        let settings = c
            .query_one("SELECT current_setting('app.tenant_id') || ' ' || current_setting('app.user_id')", &[])
            .await
            .unwrap();
        assert_eq!(settings.get::<_, String>(0), format!("{lic_id} {agent_user}"), "the caller's settings are kept");
        c.batch_execute("COMMIT").await.unwrap();
        dashboard(c).await
    });
    assert_eq!(from_agent.len(), 3, "every agent, not only the caller's: {from_agent:?}");
    let policies =
        "SELECT count(*)::text FROM lic_schema.insurance_policies WHERE status = 'active' AND agent_id IS NOT NULL";
    assert_eq!(
        db.scalar("SELECT sum(total_policies)::text FROM lic_schema.agent_dashboard_metrics"),
        db.scalar(policies)
    );
    let holders = "SELECT count(*)::text FROM lic_schema.policyholders WHERE agent_id IS NOT NULL";
    assert_eq!(
        db.scalar("SELECT sum(total_policyholders)::text FROM lic_schema.agent_dashboard_metrics"),
        db.scalar(holders)
    );
    db.execute("DELETE FROM lic_schema.agent_dashboard_metrics");
    let from_nothing = db.as_login(&login, PASSWORD, async |c| {
        c.batch_execute("SELECT lic_schema.refresh_agent_metrics()").await.unwrap();
        set_tenant(c, &lic_id).await;
        dashboard(c).await
    });
    assert_eq!(from_nothing, from_agent, "refreshed with no setting");
    // As a superuser in a pg_dump-like session (row_security = off), too.
    db.execute("DELETE FROM lic_schema.agent_dashboard_metrics");
    db.execute("SET row_security = off; SELECT lic_schema.refresh_agent_metrics()");
    assert_eq!(db.strings(DASHBOARD), from_agent, "refreshed by a superuser with row_security = off");
    // Derived rows are not audited (blueprint.toml [audit] exclude): no trigger, no audit rows.
    let audited = "SELECT count(*)::text FROM pg_trigger WHERE tgrelid = 'lic_schema.agent_dashboard_metrics'::regclass \
                   UNION ALL SELECT count(*)::text FROM audit.lic_audit_log WHERE table_name = 'agent_dashboard_metrics'";
    assert_eq!(db.strings(audited), ["0", "0"]);
    // The contract: a session working for another tenant is refused.
    db.as_login(&login, PASSWORD, async |c| {
        set_tenant(c, &hdfc_id).await;
        let err = c.batch_execute("SELECT lic_schema.refresh_agent_metrics()").await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::INVALID_PARAMETER_VALUE, "{err:?}");
    });
    let reader = format!("ro_{}", db.name);
    db.execute(&format!("CREATE ROLE {reader} LOGIN PASSWORD '{PASSWORD}' IN ROLE lic_ro"));
    db.as_login(&reader, PASSWORD, async |c| {
        let err = c.batch_execute("SELECT lic_schema.refresh_agent_metrics()").await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "read-only may not refresh: {err:?}");
    });
}
