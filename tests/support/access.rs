//! Connecting as a tenant's application, as a real deployment does: a LOGIN
//! role granted `<code>_app` with `provision tenant grant`, the tenant's id
//! in `app.tenant_id`, and the helpers the packs' isolation tests share.

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::{TestDb, Workspace};

/// The password of every login [`app_login`] makes.
pub const PASSWORD: &str = "login-pw";

/// A LOGIN role (named after the database, so tests never share one)
/// granted `<code>_app` with `provision tenant grant`.
pub fn app_login(db: &TestDb, ws: &Workspace, code: &str) -> String {
    let login = format!("login_{}_{code}", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    db.provision().in_workspace(ws).args(["tenant", "grant", code, &login]).success();
    login
}

/// The registered tenant id of `code`.
pub fn tenant_id(db: &TestDb, code: &str) -> String {
    db.scalar(&format!("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = '{code}'"))
}

/// The rows `sql` returns, counted by the server.
pub async fn count(c: &Client, sql: &str) -> i64 {
    c.query_one(&format!("SELECT count(*) FROM ({sql}) q"), &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")).get(0)
}

/// Sets `app.tenant_id` for the session, as the application does.
pub async fn set_tenant(c: &Client, id: &str) {
    c.query_one("SELECT set_config('app.tenant_id', $1, false)", &[&id]).await.unwrap();
}

/// The SQLSTATE of a database error (panics on any other error).
pub fn code_of(e: &tokio_postgres::Error) -> SqlState {
    e.code().cloned().unwrap_or_else(|| panic!("not a database error: {e:?}"))
}

/// The isolation walk both packs' tests make, on a login of tenant `own`:
/// each of `tables` shows no row of `own` with the setting unset, empty or
/// holding `other`'s id, shows its rows with `own`'s id, and `other`'s
/// schema is not even readable.
pub async fn assert_isolated(
    c: &Client,
    tables: &[&str],
    (own, own_id): (&str, &str),
    (other, other_id): (&str, &str),
) {
    for table in tables {
        let rows = format!("SELECT 1 FROM {own}_schema.{table}");
        assert_eq!(count(c, &rows).await, 0, "{table}: an unset setting shows no row");
        set_tenant(c, "").await;
        assert_eq!(count(c, &rows).await, 0, "{table}: an empty setting shows no row");
        set_tenant(c, other_id).await;
        assert_eq!(count(c, &rows).await, 0, "{table}: another tenant's id shows no row");
        set_tenant(c, own_id).await;
        assert!(count(c, &rows).await > 0, "{table}: its own rows are visible with its id");
        let err = c.query(&format!("SELECT 1 FROM {other}_schema.{table}"), &[]).await.unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{other}_schema.{table}: {err:?}");
        c.batch_execute("RESET app.tenant_id").await.unwrap();
    }
}
