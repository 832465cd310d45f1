//! The template safety gate for a run across servers: once, on one server,
//! for the tenants of all (see [`crate::cli::fanout`] and [`crate::ops::gate`]).

use anyhow::Result;
use tokio_postgres::Client;

use crate::model::config::Config;
use crate::ops::Env;
use crate::store::{registry, shared};

/// Applies the shared migrations on `gate` (the gate needs their
/// machinery) and runs the gate there for the tenants registered on every
/// server of `all` (`gate` among them): each (blueprint, version) any
/// server will take is checked before any tenant anywhere is touched.
pub async fn check(gate: &mut Client, all: &[&Client], env: &Env<'_>, config: &Config, strict: bool) -> Result<()> {
    let in_use = crate::ops::shared_parts::in_use(&*gate, config).await?;
    let parts = crate::ops::shared_parts::parts(&in_use);
    shared::apply(gate, env.lock_timeout, env.reporter, &parts).await?;
    let mut registered = registry::snapshot(&*gate, None).await?;
    for client in all {
        registered.extend(registry::snapshot(*client, None).await?);
    }
    crate::ops::gate::before_up(gate, env, config, &registered, strict).await
}
