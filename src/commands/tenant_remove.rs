//! `provision tenant remove <code>`: drop the schema and registry row, or with
//! `--keep-data` only mark the tenant inactive. Asks first unless `--yes`.
//!
//! Dropping takes a backup first (`tenant backup`, to `--backup-out` or
//! `./<code>-<timestamp>.sql`) unless `--no-backup`: in the same transaction,
//! with the tenant's tables locked against writes, so the file holds exactly
//! what is dropped. If the backup fails, nothing is dropped.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::backup::{self, PgDump};
use crate::cli::TenantRemoveArgs;
use crate::context::{display_path, Context};
use crate::error::bad_input;
use crate::lock::{self, Mode, Resource};
use crate::output::strong;
use crate::tenant::TenantCode;
use crate::{registry, roles};

pub async fn run(ctx: &Context, args: &TenantRemoveArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    // Before asking: a backup that cannot be taken stops the removal anyway.
    let backup_plan: Option<(PgDump, PathBuf)> = if args.keep_data || args.no_backup {
        None
    } else {
        let out = backup::output_path(&code, args.backup_out.as_deref())?;
        Some((PgDump::find(Some("or pass --no-backup"))?, out))
    };
    if !args.keep_data && !args.yes {
        confirm(&code, backup_plan.as_ref().map(|(_, out)| out))?;
    }
    let (mut client, target) = ctx.connect().await?;
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, ctx.lock_timeout()).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Shared, &ctx.printer).await?;
    lock::acquire(&tx, Resource::Tenant(&code), Mode::Exclusive, &ctx.printer).await?;
    let Some(tenant) = registry::snapshot(&tx, Some(&code)).await?.into_iter().next() else {
        return Err(registry::not_registered(&code));
    };
    let mut written = None;
    if let Some((pg_dump, out)) = &backup_plan {
        // A removal the registry would refuse (portal rows still reference
        // the tenant) is refused before a backup is written for nothing.
        // Row locks taken in the rolled-back savepoint are released with it.
        tx.batch_execute("SAVEPOINT before_backup").await?;
        backup::keep_history(&tx, tenant.id).await?;
        registry::remove(&tx, &code).await?;
        tx.batch_execute("ROLLBACK TO SAVEPOINT before_backup; RELEASE SAVEPOINT before_backup").await?;
        backup::freeze(&tx, &code).await?;
        let started = Instant::now();
        let result = backup::write(&tx, &target, pg_dump, &tenant, out, ctx.lock_timeout()).await;
        // Recorded on a connection of its own: the row must stay whether or
        // not this transaction commits (a failed backup rolls it back).
        let recorded = match target.connect().await {
            Ok(history) => backup::record(&history, &tenant, out, started.elapsed(), result.as_ref()).await,
            Err(e) => Err(e),
        };
        let done = result.map_err(|e| {
            e.context(format!("backup of tenant {code} failed; nothing was removed (fix it, or pass --no-backup)"))
        })?;
        if let Err(e) = recorded {
            ctx.printer.warn(format!("the backup was written but not recorded in shared.backup_history: {e:#}"));
        }
        for warning in &done.warnings {
            ctx.printer.warn(warning);
        }
        ctx.printer.line(format!(
            "backed up tenant {} to {} ({})",
            strong(&code),
            display_path(&done.path).display(),
            backup::human_size(done.size_bytes)
        ));
        written = Some(done);
        crate::failpoint::hit("tenant_remove.after_backup");
    }
    let (action, kept_roles) = if args.keep_data {
        registry::deactivate(&tx, &code).await?;
        ("deactivated", Vec::new())
    } else {
        tx.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", code.schema_ident())).await?;
        backup::keep_history(&tx, tenant.id).await?;
        registry::remove(&tx, &code).await?;
        ("removed", roles::drop(&tx, &code).await?)
    };
    tx.commit().await?;
    let audit_log = format!("audit.{}", code.audit_log_name());
    let backup_json = written.as_ref().map(|w| json!({ "file": display_path(&w.path), "size_bytes": w.size_bytes }));
    ctx.printer.json(&json!({
        "tenant": code.as_str(), "schema": code.schema_name(), "action": action,
        "roles_kept": kept_roles, "audit_log_kept": audit_log, "backup": backup_json,
    }));
    let detail = if args.keep_data { "schema and data kept" } else { "schema and roles dropped" };
    ctx.printer.line(format!("{action} tenant {} ({detail}; {audit_log} is kept for retention)", strong(&code)));
    if !kept_roles.is_empty() {
        ctx.printer.warn(format!(
            "roles {} are still used by another database of this cluster and were kept",
            kept_roles.join(", ")
        ));
    }
    Ok(())
}

/// Interactive confirmation: the DBA types the tenant code back.
fn confirm(code: &TenantCode, backup: Option<&PathBuf>) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(bad_input(format!(
            "refusing to drop tenant {code} without --yes (no terminal to ask on); nothing was changed"
        )));
    }
    let term = console::Term::stderr();
    term.write_line(&format!("This drops schema {} with all its data and forgets tenant {code}.", code.schema_name()))?;
    match backup {
        Some(out) => term.write_line(&format!("A backup is written to {} first.", out.display()))?,
        None => term.write_line("No backup is taken (--no-backup).")?,
    }
    term.write_str(&format!("Type {code} to confirm: "))?;
    let answer = term.read_line()?;
    if answer.trim() == code.as_str() {
        Ok(())
    } else {
        Err(bad_input(format!("not confirmed; tenant {code} was not removed")))
    }
}
