//! Audit triggers on a tenant's tables.
//!
//! The trigger function (`audit.log_row_change`, SECURITY DEFINER, owned by
//! `provision_audit`) comes from the shared migrations; which tables carry it
//! comes from `[audit]` in blueprint.toml. The triggers are created from the
//! catalog after every version, with each table's real primary-key columns
//! as arguments, so tables added by later versions are covered without a
//! template having to remember it.

use anyhow::{Context as _, Result};
use tokio_postgres::Transaction;

use crate::model::blueprint::Blueprint;
use crate::model::tenant::TenantCode;
use crate::pg::owned_ddl::{self, Arg};
use crate::pg::quote::{quote_ident, quote_literal};

/// Creates the audit triggers `code`'s schema lacks. Returns how many.
pub async fn ensure_triggers(tx: &Transaction<'_>, code: &TenantCode, blueprint: &Blueprint) -> Result<usize> {
    let Some(audit) = &blueprint.manifest.audit else { return Ok(0) };
    let rows = tx
        .query(include_str!("sql/audit_triggers.sql"), &[&code.schema_name(), &code.audit_log_name(), &audit.exclude])
        .await
        .with_context(|| format!("cannot plan the audit triggers of tenant {code}"))?;
    owned_ddl::run(tx, &rows, &format!("the audit triggers of tenant {code}")).await
}

/// PostgreSQL clones row triggers onto new partitions but not statement
/// triggers, so the audit log's TRUNCATE guard is re-applied to its new
/// partitions by `audit.ensure_audit_log` (idempotent), run as the owner role
/// it is granted to.
pub async fn ensure_log_guards(tx: &Transaction<'_>, code: &TenantCode, blueprint: &Blueprint) -> Result<()> {
    if blueprint.manifest.audit.is_none() {
        return Ok(());
    }
    tx.batch_execute(&guard_sql(code)).await.with_context(|| format!("cannot guard the audit log of tenant {code}"))
}

fn guard_sql(code: &TenantCode) -> String {
    format!(
        "{}; SELECT audit.ensure_audit_log({}); RESET ROLE",
        owned_ddl::set_role(&code.owner_role(), owned_ddl::Lasting::Transaction),
        quote_literal(code.as_str())
    )
}

/// The same as psql script for `tenant render`.
pub fn triggers_script(code: &TenantCode, blueprint: &Blueprint) -> Option<String> {
    let audit = blueprint.manifest.audit.as_ref()?;
    let excluded: Vec<String> = audit.exclude.iter().map(|t| quote_literal(t)).collect();
    let args = [
        Arg { literal: quote_literal(&code.schema_name()), type_name: "text" },
        Arg { literal: quote_literal(&code.audit_log_name()), type_name: "text" },
        Arg { literal: format!("ARRAY[{}]::text[]", excluded.join(", ")), type_name: "text[]" },
    ];
    let triggers = owned_ddl::gexec("provision_audit_triggers", include_str!("sql/audit_triggers.sql"), &args);
    Some(format!("{triggers}{};\n", guard_sql(code)))
}

/// Drops `code`'s audit log if it exists and holds no row; returns whether
/// it did. A log with rows (e.g. kept from a removed tenant of the same code)
/// stays: audit rows leave the log only when retention releases them.
pub async fn drop_log_if_empty(tx: &Transaction<'_>, code: &TenantCode) -> Result<bool> {
    let log = format!("audit.{}", quote_ident(&code.audit_log_name()));
    let exists: bool = tx.query_one("SELECT pg_catalog.to_regclass($1) IS NOT NULL", &[&log]).await?.get(0);
    if !exists {
        return Ok(false);
    }
    // Locked first, so no row can arrive between the look and the drop.
    tx.batch_execute(&format!("LOCK TABLE {log} IN ACCESS EXCLUSIVE MODE")).await?;
    let empty: bool = tx.query_one(&format!("SELECT NOT EXISTS (SELECT 1 FROM {log})"), &[]).await?.get(0);
    if empty {
        tx.batch_execute(&format!("DROP TABLE {log} CASCADE")).await?;
    }
    Ok(empty)
}
