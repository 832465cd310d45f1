//! Moves staged sample rows into the tenant's tables, parents first.
//!
//! Each table gets one `INSERT … SELECT` that skips rows whose key or unique
//! columns exist already, so reruns insert nothing. When allowed (see
//! `bulk_mode.sql`), the inserts run with triggers off and every foreign key
//! is then checked with one set-wise query instead of one query per row,
//! which halves the load time; otherwise the usual per-row checks apply.

use anyhow::{Context as _, Result};
use tokio_postgres::Transaction;

use super::{Timer, EVENTS_TABLE, TABLES};
use crate::error::failed;

/// Inserts the staged rows; returns rows inserted per table.
pub async fn merge(
    tx: &Transaction<'_>,
    with_events: bool,
    audit_note: &serde_json::Value,
    timer: &mut Timer<'_>,
) -> Result<Vec<(&'static str, u64)>> {
    let tables: Vec<&str> = TABLES.iter().copied().filter(|t| with_events || *t != EVENTS_TABLE).collect();
    let bulk: bool = tx.query_one(include_str!("bulk_mode.sql"), &[&tables]).await?.get(0);
    if bulk {
        tx.batch_execute("SET LOCAL session_replication_role = replica").await?;
    }
    timer.note(if bulk { "bulk mode (foreign keys checked per table)" } else { "per-row foreign-key checks" });
    let mut inserted = Vec::new();
    for table in &tables {
        let (table, sql) = statement(table);
        let rows = tx.execute(sql, &[]).await.with_context(|| format!("cannot insert the sample {table}"))?;
        timer.lap(&format!("{rows} {table} inserted"));
        inserted.push((table, rows));
    }
    if bulk {
        check_foreign_keys(tx, &tables).await?;
        tx.batch_execute("SET LOCAL session_replication_role = origin").await?;
        timer.lap("foreign keys checked");
        summarize_in_audit_logs(tx, &inserted, audit_note).await?;
    }
    Ok(inserted)
}

fn statement(table: &str) -> (&'static str, &'static str) {
    match table {
        "users" => ("users", include_str!("merge_users.sql")),
        "agents" => ("agents", include_str!("merge_agents.sql")),
        "policyholders" => ("policyholders", include_str!("merge_policyholders.sql")),
        "insurance_policies" => ("insurance_policies", include_str!("merge_insurance_policies.sql")),
        "premium_payments" => ("premium_payments", include_str!("merge_premium_payments.sql")),
        _ => (EVENTS_TABLE, include_str!("merge_user_events.sql")),
    }
}

/// The audit rows the silenced audit triggers would have written, as one
/// summary row per audited table.
async fn summarize_in_audit_logs(
    tx: &Transaction<'_>,
    inserted: &[(&'static str, u64)],
    note: &serde_json::Value,
) -> Result<()> {
    let tables: Vec<&str> = inserted.iter().map(|(t, _)| *t).collect();
    let rows: Vec<i64> = inserted.iter().map(|(_, n)| *n as i64).collect();
    let statements: Vec<String> =
        tx.query(include_str!("audit_summary.sql"), &[&tables, &rows, note]).await?.iter().map(|r| r.get(0)).collect();
    if !statements.is_empty() {
        tx.batch_execute(&statements.join(";\n")).await.context("cannot record the sample load in the audit log")?;
    }
    Ok(())
}

/// What the per-row triggers would have enforced, one query per foreign key.
async fn check_foreign_keys(tx: &Transaction<'_>, tables: &[&str]) -> Result<()> {
    tx.execute(include_str!("lock_providers.sql"), &[]).await?;
    for check in tx.query(include_str!("foreign_keys.sql"), &[&tables]).await? {
        let (name, sql): (String, String) = (check.get(0), check.get(1));
        let dangling: i64 = tx.query_one(&sql, &[]).await?.get(0);
        if dangling > 0 {
            return Err(failed(format!(
                "{dangling} sample rows would violate foreign key {name} (their referenced rows are missing)"
            )));
        }
    }
    Ok(())
}
