//! What tests/claimflow.rs and tests/claimflow_access.rs share: two ClaimFlow
//! tenants with the fixture's users and rows, a LOGIN role granted acme_app
//! with `tenant grant`, and the helpers that act as a user of a tenant.
#![allow(dead_code)]

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::support::{TestDb, Workspace};

pub const TWO_TENANTS: &str = "[defaults]\nblueprint = \"claimflow\"\n\
                           [tenants.acme]\nname = \"Acme Claims\"\n[tenants.beta]\nname = \"Beta Claims\"\n";
pub const PASSWORD: &str = "login-pw";
pub const FIXTURE: &str = include_str!("../sql/claimflow_fixture.sql");
pub const USER_1: &str = "00000000-0000-4000-8000-000000000001";
pub const USER_2: &str = "00000000-0000-4000-8000-000000000002";
pub const REVIEWER: &str = "00000000-0000-4000-8000-000000000003";
pub const LOCKED_REVIEWER: &str = "00000000-0000-4000-8000-000000000004";
pub const ADMIN: &str = "00000000-0000-4000-8000-000000000005";

pub const TABLES: &[&str] = &[
    "appeals",
    "audit_logs",
    "claim_timeline",
    "claims",
    "documents",
    "insurance_profiles",
    "notifications",
    "sessions",
    "system_config",
    "users",
];

/// A database with acme and beta (both claimflow), the fixture in both, and
/// a login granted acme_app.
pub fn setup() -> (TestDb, Workspace, String, String) {
    let db = TestDb::new();
    let ws = Workspace::new(TWO_TENANTS);
    db.provision().in_workspace(&ws).arg("up").success();
    db.execute(&FIXTURE.replace("S.", "acme_schema."));
    db.execute(&FIXTURE.replace("S.", "beta_schema."));
    let login = format!("cf_login_{}", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    db.provision().in_workspace(&ws).args(["tenant", "grant", "acme", &login]).success();
    let acme_id = tenant_id(&db, "acme");
    (db, ws, login, acme_id)
}

pub fn tenant_id(db: &TestDb, code: &str) -> String {
    db.scalar(&format!("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = '{code}'"))
}

pub async fn count(c: &Client, sql: &str) -> i64 {
    c.query_one(&format!("SELECT count(*) FROM ({sql}) q"), &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")).get(0)
}

pub async fn act_as(c: &Client, tenant: &str, user: &str) {
    c.query_one(
        "SELECT set_config('app.tenant_id', $1, false), set_config('app.user_id', $2, false)",
        &[&tenant, &user],
    )
    .await
    .unwrap();
}

pub fn code_of(e: &tokio_postgres::Error) -> SqlState {
    e.code().cloned().unwrap_or_else(|| panic!("not a database error: {e:?}"))
}
