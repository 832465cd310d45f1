//! `provision tenant activate <code>`: the way back from `tenant remove
//! --keep-data`. The tenant is active again, so `up`, `partitions rollover`
//! and `verify` include it, and its app and read-only roles get back the
//! schema access the deactivation took (see [`crate::store::roles::suspend_access`]).

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantActivateArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::error::failed;
use crate::model::tenant::TenantCode;
use crate::{store::registry, store::roles};

pub async fn run(ctx: &Context, args: &TenantActivateArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let (mut client, _) = ctx.connect().await?;
    let tx = crate::ops::provisioner::begin_locked(&mut client, &code, ctx.lock_timeout(), &ctx.printer).await?;
    let Some(tenant) = registry::snapshot(&tx, Some(&code)).await?.into_iter().next() else {
        return Err(registry::not_registered(&code));
    };
    if !tenant.schema_exists {
        return Err(failed(format!(
            "schema {} of tenant {code} is missing, so there is nothing to activate; restore it from a backup \
             (`psql -1 -f <code>-….sql`) or `tenant remove {code}` it",
            tenant.schema_name
        )));
    }
    let was_active = tenant.is_active();
    registry::activate(&tx, &code).await?;
    let restored = roles::restore_access(&tx, &code, tenant.id).await?;
    tx.commit().await?;
    ctx.printer.json(&json!({
        "tenant": code.as_str(), "was_active": was_active, "access_restored": restored,
    }));
    ctx.printer.line(match was_active {
        true => format!("tenant {} was already active", strong(&code)),
        false => format!(
            "activated tenant {} ({} and {} can reach {} again; `provision up` and rollover include it)",
            strong(&code),
            code.app_role(),
            code.ro_role(),
            tenant.schema_name
        ),
    });
    Ok(())
}
