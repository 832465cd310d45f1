//! `provision tenant remove <code>`: drop the schema and registry row, or with
//! `--keep-data` only mark the tenant inactive (see [`crate::ops::tenant::remove`]).
//! Asks first unless `--yes`. Dropping takes a backup first (to
//! `--backup-out` or `./<code>-<timestamp>.sql`) unless `--no-backup`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantRemoveArgs;
use crate::cli::context::{display_path, Context};
use crate::cli::printer::strong;
use crate::error::bad_input;
use crate::model::tenant::TenantCode;
use crate::ops::backup::Written;
use crate::ops::tenant::remove::{self, FinalBackup, Removal};

pub async fn run(ctx: &Context, args: &TenantRemoveArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let final_backup = FinalBackup::plan(&code, args.keep_data, args.no_backup, args.backup_out.as_deref())?;
    if !args.keep_data && !args.yes {
        confirm(&code, final_backup.as_ref().map(|b| &b.out))?;
    }
    let templates_dir = ctx.config()?.templates_dir;
    let (mut client, target) = ctx.connect().await?;
    let (removal, written) = remove::remove(
        &ctx.printer,
        ctx.lock_timeout(),
        (&mut client, &target),
        (&code, &templates_dir),
        args.keep_data,
        final_backup.as_ref(),
    )
    .await?;
    report(ctx, &code, &removal, written.as_ref());
    warn_if_declared(ctx, &code, args.keep_data);
    Ok(())
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
        Removal::RowsRemoved { rows, tables, roles } => {
            let detail = format!(
                "{} deleted from {}, roles {} dropped",
                crate::report::count(*rows, "row"),
                crate::report::count(*tables as u64, "table"),
                if roles.dropped.is_empty() { "none".to_owned() } else { roles.dropped.join(", ") }
            );
            let extra = json!({ "rows_deleted": rows, "roles_dropped": roles.dropped, "roles_kept": roles.kept });
            ("removed", detail, extra)
        }
    };
    let mut document = json!({
        "tenant": code.as_str(), "schema": schema, "outcome": action,
        "audit_log_kept": audit_log, "backup": backup_json,
    });
    if let (Some(document), Some(extra)) = (document.as_object_mut(), json.as_object()) {
        document.extend(extra.clone());
    }
    ctx.printer.json(&document);
    let kept = match removal {
        Removal::RowsRemoved { .. } => "the rows of its blueprint's kept tables stay for retention".to_owned(),
        _ => format!("{audit_log} is kept for retention"),
    };
    ctx.printer.line(format!("{action} tenant {} ({detail}; {kept})", strong(code)));
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
fn warn_if_declared(ctx: &Context, code: &TenantCode, keep_data: bool) {
    let (path, explicit) = match &ctx.global.config {
        Some(path) => (path.as_path(), true),
        None => (std::path::Path::new("tenants.toml"), false),
    };
    if !remove::still_declared(path, explicit, code) {
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
