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
