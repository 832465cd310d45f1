//! `provision tenant remove <code>`: drop the schema and registry row, or with
//! `--keep-data` only mark the tenant inactive. Asks first unless `--yes`.

use std::io::IsTerminal;

use anyhow::Result;
use serde_json::json;

use crate::cli::TenantRemoveArgs;
use crate::context::Context;
use crate::error::bad_input;
use crate::lock::{self, Mode, Resource};
use crate::output::strong;
use crate::tenant::TenantCode;
use crate::{registry, roles};

pub async fn run(ctx: &Context, args: &TenantRemoveArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    if !args.keep_data && !args.yes {
        confirm(&code)?;
    }
    let (mut client, _) = ctx.connect().await?;
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, ctx.lock_timeout()).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Shared, &ctx.printer).await?;
    lock::acquire(&tx, Resource::Tenant(&code), Mode::Exclusive, &ctx.printer).await?;
    if registry::snapshot(&tx, Some(&code)).await?.is_empty() {
        return Err(bad_input(format!(
            "tenant {code} is not registered in this database; see `provision tenant list`"
        )));
    }
    let (action, kept_roles) = if args.keep_data {
        registry::deactivate(&tx, &code).await?;
        ("deactivated", Vec::new())
    } else {
        tx.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", code.schema_ident())).await?;
        registry::remove(&tx, &code).await?;
        ("removed", roles::drop(&tx, &code).await?)
    };
    tx.commit().await?;
    let audit_log = format!("audit.{}", code.audit_log_name());
    ctx.printer.json(&json!({
        "tenant": code.as_str(), "schema": code.schema_name(), "action": action,
        "roles_kept": kept_roles, "audit_log_kept": audit_log,
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
fn confirm(code: &TenantCode) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(bad_input(format!(
            "refusing to drop tenant {code} without --yes (no terminal to ask on); nothing was changed"
        )));
    }
    let term = console::Term::stderr();
    term.write_line(&format!("This drops schema {} with all its data and forgets tenant {code}.", code.schema_name()))?;
    term.write_str(&format!("Type {code} to confirm: "))?;
    let answer = term.read_line()?;
    if answer.trim() == code.as_str() {
        Ok(())
    } else {
        Err(bad_input(format!("not confirmed; tenant {code} was not removed")))
    }
}
