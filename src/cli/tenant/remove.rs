//! `provision tenant remove <code>`: drop the schema and registry row, or with
//! `--keep-data` only mark the tenant inactive, which also takes access away
//! from the logins granted its app and read-only roles until `tenant
//! activate`. Asks first unless `--yes`. The audit log is never dropped: it
//! stays until retention releases it.
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

use crate::cli::args::TenantRemoveArgs;
use crate::cli::context::{display_path, Context};
use crate::cli::printer::strong;
use crate::error::bad_input;
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::ops::backup::{self, PgDump, Written};
use crate::pg::connection::Target;
use crate::store::registry::{self, Registered};
use crate::store::roles::{self, DroppedRoles};

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
    let tx = crate::ops::provisioner::begin_locked(&mut client, &code, ctx.lock_timeout(), &ctx.printer).await?;
    let Some(tenant) = registry::snapshot(&tx, Some(&code)).await?.into_iter().next() else {
        return Err(registry::not_registered(&code));
    };
    let written = match &backup_plan {
        Some((pg_dump, out)) => Some(final_backup(ctx, &tx, &target, &tenant, pg_dump, out).await?),
        None => None,
    };
    if written.is_some() {
        crate::failpoint::hit("tenant_remove.after_backup");
    }
    let removal = if args.keep_data {
        registry::deactivate(&tx, &code).await?;
        Removal::Deactivated { revoked: roles::suspend_access(&tx, &code, tenant.id).await? }
    } else {
        tx.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", code.schema_ident())).await?;
        backup::keep_history(&tx, tenant.id).await?;
        registry::remove(&tx, &code).await?;
        Removal::Removed(roles::drop(&tx, &code).await?)
    };
    tx.commit().await?;
    report(ctx, &code, &removal, written.as_ref());
    warn_if_declared(ctx, &code, args.keep_data);
    Ok(())
}

/// What happened to the tenant.
enum Removal {
    /// `--keep-data`: these `schema: role` USAGE grants were revoked.
    Deactivated {
        revoked: Vec<String>,
    },
    Removed(DroppedRoles),
}

/// The backup taken before dropping: in the removal's transaction, with the
/// tenant's tables locked against writes, so the file holds exactly what is
/// dropped. If it fails, nothing is dropped.
async fn final_backup(
    ctx: &Context,
    tx: &tokio_postgres::Transaction<'_>,
    target: &Target,
    tenant: &Registered,
    pg_dump: &PgDump,
    out: &std::path::Path,
) -> Result<Written> {
    let code = &tenant.code;
    // A removal the registry would refuse (a blueprint's shared tables still
    // reference the tenant) is refused before a backup is written for nothing.
    // Row locks taken in the rolled-back savepoint are released with it.
    tx.batch_execute("SAVEPOINT before_backup").await?;
    backup::keep_history(tx, tenant.id).await?;
    registry::remove(tx, code).await?;
    tx.batch_execute("ROLLBACK TO SAVEPOINT before_backup; RELEASE SAVEPOINT before_backup").await?;
    backup::freeze(tx, code).await?;
    let started = Instant::now();
    let result = backup::write(tx, target, pg_dump, tenant, out, ctx.lock_timeout()).await;
    // Recorded on a connection of its own: the row must stay whether or
    // not this transaction commits (a failed backup rolls it back).
    let recorded = match target.connect().await {
        Ok(history) => backup::record(&history, tenant, out, started.elapsed(), result.as_ref()).await,
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
        strong(code),
        display_path(&done.path).display(),
        backup::human_size(done.size_bytes)
    ));
    Ok(done)
}

/// The result line (and JSON), saying exactly what was dropped and what was kept.
fn report(ctx: &Context, code: &TenantCode, removal: &Removal, written: Option<&Written>) {
    let audit_log = format!("audit.{}", code.audit_log_name());
    let backup_json = written.map(|w| json!({ "file": display_path(&w.path), "size_bytes": w.size_bytes }));
    let schema = code.schema_name();
    let (action, detail, json) = match removal {
        Removal::Deactivated { revoked } => (
            "deactivated",
            format!(
                "schema and data kept; {} and {} can no longer reach them until `provision tenant activate {code}`",
                code.app_role(),
                code.ro_role()
            ),
            json!({ "access_revoked": revoked, "roles_dropped": [], "roles_kept": [] }),
        ),
        Removal::Removed(roles) => {
            let detail = match (roles.dropped.is_empty(), roles.kept.is_empty()) {
                (false, _) => format!("schema {schema} and roles {} dropped", roles.dropped.join(", ")),
                (true, false) => format!("schema {schema} dropped, roles {} kept", roles.kept.join(", ")),
                (true, true) => format!("schema {schema} dropped"),
            };
            ("removed", detail, json!({ "roles_dropped": roles.dropped, "roles_kept": roles.kept }))
        }
    };
    let mut document = json!({
        "tenant": code.as_str(), "schema": schema, "action": action,
        "audit_log_kept": audit_log, "backup": backup_json,
    });
    if let (Some(document), Some(extra)) = (document.as_object_mut(), json.as_object()) {
        document.extend(extra.clone());
    }
    ctx.printer.json(&document);
    ctx.printer.line(format!("{action} tenant {} ({detail}; {audit_log} is kept for retention)", strong(code)));
    if let Removal::Removed(roles) = removal {
        if !roles.kept.is_empty() {
            ctx.printer.warn(format!(
                "roles {} are still used by another database of this cluster and were kept",
                roles.kept.join(", ")
            ));
        }
    }
}

/// A tenant still in tenants.toml comes back with the next `up` (empty) or
/// stays out of it while inactive: either way the operator should know.
/// An unreadable tenants.toml only skips this warning.
fn warn_if_declared(ctx: &Context, code: &TenantCode, keep_data: bool) {
    let (path, explicit) = match &ctx.global.config {
        Some(path) => (path.as_path(), true),
        None => (std::path::Path::new("tenants.toml"), false),
    };
    let Ok(config) = Config::load(path, explicit) else { return };
    if config.tenant(code).is_none() {
        return;
    }
    let consequence = match keep_data {
        true => {
            format!("`provision up` skips it while it is inactive; `provision tenant activate {code}` brings it back")
        }
        false => "the next `provision up` creates it again, empty".to_owned(),
    };
    ctx.printer.warn(format!(
        "tenant {code} is still declared in {} ([tenants.{code}]): {consequence}; delete the entry if it is gone for good",
        path.display()
    ));
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
