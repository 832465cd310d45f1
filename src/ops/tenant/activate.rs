//! `tenant activate`: the way back from `tenant remove --keep-data`. The
//! tenant is active again, so `up`, `partitions rollover` and `verify`
//! include it, and its app and read-only roles get back the schema access
//! the deactivation took (see [`crate::store::roles::suspend_access`]).

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::failed;
use crate::model::tenant::TenantCode;
use crate::ops::Env;
use crate::{store::registry, store::roles};

/// What `activate` did.
#[derive(Debug, Clone, Serialize)]
pub struct Activated {
    pub tenant: String,
    pub was_active: bool,
    /// The `schema: role` USAGE grants given back.
    pub access_restored: Vec<String>,
    #[serde(skip)]
    pub schema: String,
}

/// Activates `code` under its lock; refuses a tenant whose schema is gone.
pub async fn activate(env: &Env<'_>, client: &mut Client, code: &TenantCode) -> Result<Activated> {
    let tx = crate::ops::provisioner::begin_locked(client, code, env.lock_timeout, env.reporter).await?;
    let tenant = super::registered(&tx, code).await?;
    if tenant.row {
        // A row tenant's access hangs on its registry status (shared.tenant_role_member): nothing was revoked.
        registry::activate(&tx, code).await?;
        tx.commit().await?;
        return Ok(Activated {
            tenant: code.to_string(),
            was_active: tenant.is_active(),
            access_restored: Vec::new(),
            schema: String::new(),
        });
    }
    if !tenant.schema_exists {
        return Err(failed(format!(
            "schema {} of tenant {code} is missing, so there is nothing to activate; restore it from a backup \
             (`psql -1 -f <code>-….sql`) or `tenant remove {code}` it",
            tenant.schema_name
        )));
    }
    let was_active = tenant.is_active();
    registry::activate(&tx, code).await?;
    let access_restored = roles::restore_access(&tx, code, tenant.id).await?;
    tx.commit().await?;
    Ok(Activated { tenant: code.to_string(), was_active, access_restored, schema: tenant.schema_name })
}
