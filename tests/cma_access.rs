//! The cma pack through real LOGIN roles, as a centre's application
//! connects: a login granted `<code>_app` with `provision tenant grant`
//! reads and writes only its centre's rows whatever app.centre_id holds,
//! sees nothing with it unset, empty or naming another centre; triggers
//! stamp created_by / updated_by / updated_at from app.user_id; a soft
//! delete hides the row from the login afterwards; every write lands in the
//! audit trail, which nobody can rewrite.

mod cma_common;
mod support;

use cma_common::{centre_id, fill, provisioned, user_id};
use support::access::{app_login, code_of, count, PASSWORD};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// Tables of centre data the login reads (centres has its own check).
const TABLES: [&str; 13] = [
    "users",
    "clients",
    "cases",
    "creditors",
    "debts",
    "budget_sheets",
    "documents",
    "case_notes",
    "appointments",
    "appointment_notes",
    "case_compliance",
    "audit_logs",
    "ai_insights",
];

async fn set(c: &Client, setting: &str, value: &str) {
    c.query_one("SELECT set_config($1, $2, false)", &[&setting, &value]).await.unwrap();
}

#[test]
fn a_centre_login_sees_and_writes_only_its_centre_whatever_the_setting_holds() {
    let (db, ws) = provisioned(&["north11", "south11"]);
    fill(&db, "north11");
    fill(&db, "south11");
    let (north, south) = (centre_id(&db, "north11"), centre_id(&db, "south11"));
    let login = app_login(&db, &ws, "north11");
    db.as_login(&login, PASSWORD, async |c| {
        for table in TABLES.iter().chain(&["centres"]) {
            let rows = format!("SELECT 1 FROM cma.{table}");
            c.batch_execute("RESET app.centre_id").await.unwrap();
            assert_eq!(count(c, &rows).await, 0, "{table}: an unset setting shows no row");
            set(c, "app.centre_id", "").await;
            assert_eq!(count(c, &rows).await, 0, "{table}: an empty setting shows no row");
            set(c, "app.centre_id", &south).await;
            assert_eq!(count(c, &rows).await, 0, "{table}: the other centre's id shows no row");
            set(c, "app.centre_id", &north).await;
            assert!(count(c, &rows).await > 0, "{table}: its own rows are visible with its id");
            let key = if *table == "centres" { "id" } else { "centre_id" };
            let foreign = format!("SELECT 1 FROM cma.{table} WHERE {key} <> {north}");
            assert_eq!(count(c, &foreign).await, 0, "{table}: no other centre's row");
        }
        // Writes: its own centre's rows only.
        set(c, "app.centre_id", &north).await;
        c.batch_execute(&format!(
            "INSERT INTO cma.clients (centre_id, client_reference, first_name, last_name) VALUES ({north}, 'CL-2', 'A', 'B')"
        ))
        .await
        .unwrap();
        let err = c
            .batch_execute(&format!(
                "INSERT INTO cma.clients (centre_id, client_reference, first_name, last_name) \
                 VALUES ({south}, 'CL-9', 'A', 'B')"
            ))
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{err:?}");
        let moved = c.execute(&format!("UPDATE cma.clients SET centre_id = {south}"), &[]).await.unwrap_err();
        assert!(matches!(code_of(&moved), SqlState::INSUFFICIENT_PRIVILEGE | SqlState::FOREIGN_KEY_VIOLATION));
        let changed = c.execute("UPDATE cma.cases SET priority = 'urgent'", &[]).await.unwrap();
        assert_eq!(changed, 1, "only its own case");
        // The setting naming the other centre writes nothing there either.
        set(c, "app.centre_id", &south).await;
        assert_eq!(c.execute("UPDATE cma.cases SET priority = 'low'", &[]).await.unwrap(), 0);
        assert_eq!(c.execute("DELETE FROM cma.case_notes", &[]).await.unwrap(), 0);
    });
    assert_eq!(
        db.strings(
            "SELECT x.code || ' ' || c.priority FROM cma.cases c JOIN cma.centres x ON x.id = c.centre_id ORDER BY 1"
        ),
        ["north11 urgent", "south11 medium"]
    );
    assert_eq!(db.scalar("SELECT count(*)::text FROM cma.case_notes"), "2");
    assert_eq!(db.scalar("SELECT count(*)::text FROM cma.clients"), "3");
}

#[test]
fn a_removed_centre_is_seen_by_nobody_and_another_centres_user_cannot_be_named() {
    let (db, ws) = provisioned(&["north12", "south12"]);
    fill(&db, "north12");
    fill(&db, "south12");
    let (north, south_advisor) = (centre_id(&db, "north12"), user_id(&db, "south12", "advisor"));
    let login = app_login(&db, &ws, "north12");
    db.as_login(&login, PASSWORD, async |c| {
        set(c, "app.centre_id", &north).await;
        // app.user_id naming a user of the other centre: the composite key on created_by refuses it.
        set(c, "app.user_id", &south_advisor).await;
        let err = c
            .batch_execute(&format!(
                "INSERT INTO cma.case_notes (centre_id, case_id, content) \
                 SELECT {north}, id, 'x' FROM cma.cases"
            ))
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::FOREIGN_KEY_VIOLATION, "{err:?}");
    });
    db.provision().in_workspace(&ws).args(["tenant", "remove", "north12", "--keep-data", "--yes"]).success();
    db.as_login(&login, PASSWORD, async |c| {
        set(c, "app.centre_id", &north).await;
        assert_eq!(count(c, "SELECT 1 FROM cma.cases").await, 0, "an inactive centre is acted for by nobody");
    });
}

#[test]
fn stamps_soft_deletes_and_the_append_only_audit_trail() {
    let (db, ws) = provisioned(&["north13"]);
    fill(&db, "north13");
    let (north, advisor) = (centre_id(&db, "north13"), user_id(&db, "north13", "advisor"));
    let login = app_login(&db, &ws, "north13");
    db.as_login(&login, PASSWORD, async |c| {
        set(c, "app.centre_id", &north).await;
        set(c, "app.user_id", &advisor).await;
        c.batch_execute(&format!(
            "INSERT INTO cma.clients (centre_id, client_reference, first_name, last_name, created_by, updated_at) \
             VALUES ({north}, 'CL-7', 'Grace', 'Hopper', NULL, '2001-01-01')"
        ))
        .await
        .unwrap();
        let row = c
            .query_one(
                "SELECT created_by::text, updated_by::text, updated_at > localtimestamp - interval '1 hour' \
                 FROM cma.clients WHERE client_reference = 'CL-7'",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some(advisor.as_str()), "created_by from app.user_id");
        assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some(advisor.as_str()), "updated_by from app.user_id");
        assert!(row.get::<_, bool>(2), "updated_at is now, whatever the insert said");
        // Unset: the next change is nobody's.
        c.batch_execute("RESET app.user_id").await.unwrap();
        c.batch_execute("UPDATE cma.clients SET marital_status = 'single' WHERE client_reference = 'CL-7'")
            .await
            .unwrap();
        let row = c
            .query_one(
                "SELECT created_by::text, updated_by::text FROM cma.clients WHERE client_reference = 'CL-7'",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some(advisor.as_str()), "created_by never changes");
        assert_eq!(row.get::<_, Option<String>>(1), None, "updated_by NULL with app.user_id unset");
        // Soft delete: the UPDATE works, and the row is gone for the login from then on.
        set(c, "app.user_id", &advisor).await;
        let deleted =
            c.execute("UPDATE cma.clients SET deleted_at = now() WHERE client_reference = 'CL-7'", &[]).await.unwrap();
        assert_eq!(deleted, 1);
        assert_eq!(count(c, "SELECT 1 FROM cma.clients WHERE client_reference = 'CL-7'").await, 0);
        assert_eq!(
            c.execute("UPDATE cma.clients SET title = 'Dr' WHERE client_reference = 'CL-7'", &[]).await.unwrap(),
            0
        );
        // The trail: no UPDATE, DELETE or TRUNCATE for the login.
        for sql in ["UPDATE cma.audit_logs SET action = 'x'", "DELETE FROM cma.audit_logs", "TRUNCATE cma.audit_logs"] {
            let err = c.batch_execute(sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {err:?}");
        }
    });
    assert_eq!(
        db.scalar("SELECT (deleted_at IS NOT NULL)::text FROM cma.clients WHERE client_reference = 'CL-7'"),
        "true",
        "the superuser still sees the soft-deleted row"
    );
    // The writes are in the trail, with the user and centre, and no personal column.
    let trail = db.strings(
        "SELECT action || ' ' || coalesce(user_id::text, '-') || ' ' || centre_id || ' ' \
                || (new_values ? 'first_name')::text || ' ' || (new_values ? 'marital_status')::text \
         FROM cma.audit_logs WHERE table_name = 'clients' AND record_id = \
              (SELECT id FROM cma.clients WHERE client_reference = 'CL-7') ORDER BY id",
    );
    assert_eq!(
        trail,
        [
            format!("INSERT {advisor} {north} false true"),
            format!("UPDATE - {north} false true"),
            format!("UPDATE {advisor} {north} false true")
        ]
    );
    // Not even the superuser rewrites it (short of turning triggers off); a row past 10 years may go.
    for sql in ["UPDATE cma.audit_logs SET action = 'x'", "DELETE FROM cma.audit_logs", "TRUNCATE cma.audit_logs"] {
        let err = db.with(async |c| c.batch_execute(sql).await.unwrap_err());
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {err:?}");
    }
    db.execute(&format!(
        "INSERT INTO cma.audit_logs (centre_id, action, timestamp) VALUES ({north}, 'LOGIN', '2010-05-01');
         DELETE FROM cma.audit_logs WHERE timestamp < '2011-01-01'"
    ));
    assert_eq!(db.scalar("SELECT count(*)::text FROM cma.audit_logs WHERE timestamp < '2011-01-01'"), "0");
}

#[test]
fn a_reader_login_reads_its_centre_and_writes_nothing() {
    let (db, ws) = provisioned(&["north14", "south14"]);
    fill(&db, "north14");
    fill(&db, "south14");
    let (north, south) = (centre_id(&db, "north14"), centre_id(&db, "south14"));
    let login = format!("reader_{}", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    db.provision().in_workspace(&ws).args(["tenant", "grant", "north14", &login, "--read-only"]).success();
    db.as_login(&login, PASSWORD, async |c| {
        set(c, "app.centre_id", &south).await;
        assert_eq!(count(c, "SELECT 1 FROM cma.cases").await, 0, "not the other centre's");
        set(c, "app.centre_id", &north).await;
        for table in TABLES {
            assert!(count(c, &format!("SELECT 1 FROM cma.{table}")).await > 0, "{table}: its centre's rows");
        }
        for sql in [
            "UPDATE cma.cases SET priority = 'low'".to_owned(),
            "DELETE FROM cma.case_notes".to_owned(),
            format!("INSERT INTO cma.case_notes (centre_id, case_id, content) SELECT {north}, id, 'x' FROM cma.cases"),
            "UPDATE cma.centres SET phone = '1'".to_owned(),
        ] {
            let err = c.batch_execute(&sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {err:?}");
        }
    });
}
