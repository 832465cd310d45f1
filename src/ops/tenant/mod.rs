//! The use cases behind `provision tenant …` that change or read one
//! registered tenant: activate, grant, repair, backup, remove and upgrade.
//! Each returns a typed report that the CLI turns into text or JSON.

pub mod activate;
pub mod add;
pub mod backup;
pub mod grant;
pub mod remove;
pub mod repair;
pub mod upgrade;

use anyhow::Result;
use tokio_postgres::GenericClient;

use crate::model::tenant::TenantCode;
use crate::store::registry::{self, Registered};

/// The registered tenant `code`, or the "not registered" error (exit 2).
pub(crate) async fn registered(client: &impl GenericClient, code: &TenantCode) -> Result<Registered> {
    match registry::snapshot(client, Some(code)).await?.into_iter().next() {
        Some(tenant) => Ok(tenant),
        None => Err(registry::not_registered(code)),
    }
}
