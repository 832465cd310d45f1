//! `provision tenant backup <code> [--out FILE]`: one tenant as a plain SQL
//! file (see [`crate::ops::backup`]), recorded in `shared.backup_history`.

use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantBackupArgs;
use crate::cli::context::{display_path, Context};
use crate::cli::printer::strong;
use crate::model::tenant::TenantCode;
use crate::ops::backup::{self, PgDump};
use crate::store::lock::{self, Mode, Resource};
use crate::store::registry;

pub async fn run(ctx: &Context, args: &TenantBackupArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let out = backup::output_path(&code, args.out.as_deref())?;
    let (mut client, target) = ctx.connect().await?;
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, ctx.lock_timeout()).await?;
    // Shared: backups of one tenant may run side by side; upgrades, rollovers
    // and removal (exclusive) wait until pg_dump has read the tenant.
    lock::acquire(&tx, Resource::Shared, Mode::Shared, &ctx.printer).await?;
    lock::acquire(&tx, Resource::Tenant(&code), Mode::Shared, &ctx.printer).await?;
    let Some(tenant) = registry::snapshot(&tx, Some(&code)).await?.into_iter().next() else {
        return Err(registry::not_registered(&code));
    };
    let pg_dump = PgDump::find(None)?;
    let started = Instant::now();
    let result = backup::write(&tx, &target, &pg_dump, &tenant, &out, ctx.lock_timeout()).await;
    // Read-only work: ending the transaction just releases the locks.
    tx.rollback().await?;
    crate::failpoint::hit("tenant_backup.before_record");
    let recorded = backup::record(&client, &tenant, &out, started.elapsed(), result.as_ref()).await;
    let written = result.map_err(|e| e.context(format!("backup of tenant {code} failed")))?;
    let backup_id = match recorded {
        Ok(id) => Some(id),
        Err(e) => {
            ctx.printer.warn(format!("the backup was written but not recorded in shared.backup_history: {e:#}"));
            None
        }
    };
    for warning in &written.warnings {
        ctx.printer.warn(warning);
    }
    let shown = display_path(&written.path);
    ctx.printer.json(&json!({
        "tenant": code.as_str(), "file": shown, "size_bytes": written.size_bytes, "backup_id": backup_id,
    }));
    ctx.printer.line(format!(
        "backed up tenant {} to {} ({})",
        strong(&code),
        shown.display(),
        backup::human_size(written.size_bytes)
    ));
    ctx.printer.line(format!("restore with: psql -X -1 -v ON_ERROR_STOP=1 -d <database> -f {}", shown.display()));
    Ok(())
}
