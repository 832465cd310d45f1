//! `tenant grant`: attach an existing login role to the tenant's `<code>_app`
//! (or `<code>_ro`) role.

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::model::tenant::TenantCode;
use crate::store::roles;

/// What `grant` did.
#[derive(Debug, Clone, Serialize)]
pub struct Granted {
    pub tenant: String,
    pub login_role: String,
    /// The tenant role the login was made a member of.
    pub granted: String,
}

pub async fn grant(client: &Client, code: &TenantCode, login_role: &str, read_only: bool) -> Result<Granted> {
    super::registered(client, code).await?;
    let granted = roles::grant(client, code, login_role, read_only).await?;
    Ok(Granted { tenant: code.to_string(), login_role: login_role.to_owned(), granted })
}
