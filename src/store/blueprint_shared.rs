//! A blueprint's shared part: the database-level objects it needs once per
//! database (`templates/<name>/shared/V{n}__*.sql`), with a refinery history
//! of its own, `provision."<name>_shared_history"`, so blueprints never share
//! version numbers with provision's own migrations or with each other.
//!
//! Applying one never commits: `up` applies it with the core migrations, and
//! the first tenant of a blueprint applies it in its own transaction, so a
//! failure leaves neither the tenant nor the shared part.

use anyhow::{Context as _, Result};
use refinery_core::Migration;
use tokio_postgres::{GenericClient, Transaction};

use crate::pg::quote::quote_ident;
use crate::store::layout_upgrade::SharedPart;
use crate::store::migrate::{self, parse_applied, Applied, Plan};

/// `<name>_shared_history` must fit PostgreSQL's 63-byte identifiers.
const SUFFIX: &str = "_shared_history";

/// The blueprint's shared history table, qualified and quoted.
pub fn history_table(blueprint: &str) -> String {
    format!("{}.{}", migrate::HISTORY_SCHEMA, quote_ident(&format!("{blueprint}{SUFFIX}")))
}

/// A blueprint with a shared part needs a name that leaves room for its
/// history's (PostgreSQL would silently cut a longer identifier).
fn check_name(blueprint: &str) -> Result<()> {
    match blueprint.len() + SUFFIX.len() <= 63 {
        true => Ok(()),
        false => Err(crate::error::bad_input(format!(
            "blueprint {blueprint:?} has a shared part, so its name may have at most {} characters \
             (its history is provision.\"<name>{SUFFIX}\"); rename the blueprint",
            63 - SUFFIX.len()
        ))),
    }
}

/// What the blueprint's shared history records (empty when it has none yet).
/// Read-only: never creates the table.
pub async fn applied(client: &impl GenericClient, blueprint: &str) -> Result<Vec<Applied>> {
    let name = format!("{blueprint}{SUFFIX}");
    let row = client.query_opt(include_str!("sql/blueprint_shared_history.sql"), &[&name]).await?;
    Ok(parse_applied(row.as_ref().and_then(|r| r.get::<_, Option<&str>>(0))))
}

/// What applying `part` would do, over what its history records.
pub async fn plan(client: &impl GenericClient, part: SharedPart<'_>) -> Result<Plan> {
    if !part.migrations.is_empty() {
        check_name(part.blueprint)?;
    }
    Ok(Plan::new(part.migrations, &applied(client, part.blueprint).await?))
}

/// The blueprints the registry's tenants use (none before the registry exists).
pub async fn registered_blueprints(client: &impl GenericClient) -> Result<Vec<String>> {
    let row = client.query_opt(include_str!("sql/registry_blueprints.sql"), &[]).await?;
    let names = row.as_ref().and_then(|r| r.get::<_, Option<&str>>(0)).unwrap_or_default();
    Ok(names.split(',').filter(|n| !n.is_empty()).map(str::to_owned).collect())
}

/// The blueprints this database records a shared history for.
pub async fn recorded_blueprints(client: &impl GenericClient) -> Result<Vec<String>> {
    let rows = client.query(include_str!("sql/recorded_blueprints.sql"), &[]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Applies what is pending of `part` inside `tx`; the caller holds the
/// exclusive shared lock and decides about commit.
/// A blueprint without a shared part gets no history table.
pub async fn apply(tx: &Transaction<'_>, part: SharedPart<'_>) -> Result<Vec<Migration>> {
    if part.migrations.is_empty() {
        return Ok(Vec::new());
    }
    check_name(part.blueprint)?;
    migrate::apply(tx, part.migrations, &history_table(part.blueprint))
        .await
        .with_context(|| format!("the shared part of blueprint {} failed; nothing was applied", part.blueprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_names_fit_postgresql_identifiers() {
        assert_eq!(history_table("widgets"), r#"provision."widgets_shared_history""#);
        assert!(check_name(&"w".repeat(48)).is_ok());
        let error = check_name(&"w".repeat(49)).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&error), crate::error::ExitCode::BadInput);
    }
}
