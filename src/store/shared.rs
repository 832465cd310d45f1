//! The database-level migrations: provision's own (`migrations/`, compiled
//! into the binary, history `provision.refinery_schema_history`) and the
//! shared part of each blueprint in use (history
//! `provision."<blueprint>_shared_history"`), applied together in one
//! transaction under the exclusive shared lock. A database made before
//! blueprint packs has its history re-recorded first (`layout_upgrade`).

use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio_postgres::{Client, GenericClient, Transaction};

use crate::error::bad_input;
use crate::report::Reporter;
use crate::store::layout_upgrade::{self, SharedPart};
use crate::store::lock::{self, Mode, Resource};
use crate::store::migrate::{self, parse_applied, Applied, Plan};

/// What applying the core and `parts` would do.
#[derive(Debug, Default)]
pub struct SharedPlan {
    pub core: Plan,
    /// Per blueprint, in the order given.
    pub blueprints: Vec<(String, Plan)>,
    /// Old core history rows that would be re-recorded.
    pub rerecorded: usize,
}

impl SharedPlan {
    /// Pending versions, core first, a blueprint's as `<blueprint>/V{n}__name`.
    pub fn pending(&self) -> Vec<String> {
        let core = self.core.pending.iter().map(ToString::to_string);
        let parts = self.blueprints.iter().flat_map(|(bp, plan)| plan.pending.iter().map(move |m| format!("{bp}/{m}")));
        core.chain(parts).collect()
    }

    /// Applied versions edited since they ran, named like [`Self::pending`].
    pub fn edited(&self) -> Vec<(String, i32)> {
        let parts = self
            .blueprints
            .iter()
            .flat_map(|(bp, plan)| plan.edited.iter().map(move |(name, v)| (format!("{bp}/{name}"), *v)));
        self.core.edited.iter().cloned().chain(parts).collect()
    }

    fn is_current(&self) -> bool {
        self.rerecorded == 0 && self.pending().is_empty() && self.edited().is_empty()
    }
}

/// The core history as recorded (empty before the first migration).
async fn core_applied(client: &impl GenericClient) -> Result<Vec<Applied>> {
    let row = client.query_opt(include_str!("sql/shared_history.sql"), &[]).await?;
    Ok(parse_applied(row.as_ref().and_then(|r| r.get::<_, Option<&str>>(0))))
}

/// Reads what the database has applied and what this binary and `parts`
/// would add, as it will read once an old history is re-recorded.
pub async fn plan(client: &impl GenericClient, parts: &[SharedPart<'_>]) -> Result<SharedPlan> {
    let applied = core_applied(client).await?;
    let core = migrate::shared_migrations();
    let rerecord = layout_upgrade::plan(&applied, &core, parts)?;
    let mut plan = SharedPlan {
        core: Plan::new(&core, &rerecord.core_after(&applied)),
        rerecorded: rerecord.moved.len() + rerecord.split.len(),
        ..SharedPlan::default()
    };
    for part in parts {
        let recorded = crate::store::blueprint_shared::applied(client, part.blueprint).await?;
        let recorded = rerecord.blueprint_after(part.blueprint, &recorded);
        plan.blueprints.push((part.blueprint.to_owned(), Plan::new(part.migrations, &recorded)));
    }
    Ok(plan)
}

/// Applies pending core migrations and the pending shared parts of `parts`
/// in one transaction under the exclusive shared lock. Returns the names
/// applied (empty when already current).
pub async fn apply(
    client: &mut Client,
    lock_timeout: Duration,
    reporter: &dyn Reporter,
    parts: &[SharedPart<'_>],
) -> Result<Vec<String>> {
    if plan(&*client, parts).await?.is_current() {
        return Ok(Vec::new());
    }
    in_locked_transaction(client, lock_timeout, reporter, parts, parts).await
}

/// Applies pending core migrations only; `known` blueprints are read for
/// re-recording an old history (`tenant add` applies its blueprint's shared
/// part in the tenant's own transaction).
pub async fn apply_core(
    client: &mut Client,
    lock_timeout: Duration,
    reporter: &dyn Reporter,
    known: &[SharedPart<'_>],
) -> Result<Vec<String>> {
    let plan = plan(&*client, known).await?;
    if plan.rerecorded == 0 && plan.core.pending.is_empty() && plan.core.edited.is_empty() {
        return Ok(Vec::new());
    }
    in_locked_transaction(client, lock_timeout, reporter, known, &[]).await
}

async fn in_locked_transaction(
    client: &mut Client,
    lock_timeout: Duration,
    reporter: &dyn Reporter,
    known: &[SharedPart<'_>],
    parts: &[SharedPart<'_>],
) -> Result<Vec<String>> {
    let tx = client.transaction().await?;
    lock::set_lock_timeout(&tx, lock_timeout).await?;
    lock::acquire(&tx, Resource::Shared, Mode::Exclusive, reporter).await?;
    let applied = apply_locked(&tx, known, parts).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Re-records an old history (reading `known`), then applies the core and
/// `parts` inside `tx`, which holds the exclusive shared lock; the caller commits.
pub async fn apply_locked(
    tx: &Transaction<'_>,
    known: &[SharedPart<'_>],
    parts: &[SharedPart<'_>],
) -> Result<Vec<String>> {
    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", migrate::HISTORY_SCHEMA)).await?;
    let core = migrate::shared_migrations();
    let recorded = core_applied(tx).await?;
    let rerecord = layout_upgrade::plan(&recorded, &core, known)?;
    refuse_unknown_core_versions(&rerecord.core_after(&recorded), &core)?;
    layout_upgrade::apply(tx, &rerecord, crate::store::blueprint_shared::history_table).await?;
    let mut names: Vec<String> = migrate::apply(tx, &core, &migrate::shared_history_table())
        .await
        .context("shared migrations failed; nothing was applied")?
        .iter()
        .map(ToString::to_string)
        .collect();
    for part in parts {
        let applied = crate::store::blueprint_shared::apply(tx, *part).await?;
        names.extend(applied.iter().map(|m| format!("{}/{m}", part.blueprint)));
    }
    Ok(names)
}

/// A core version this binary does not have, that no blueprint in use
/// claims, can only be a newer release's or a blueprint's not in use.
fn refuse_unknown_core_versions(applied: &[Applied], core: &[refinery_core::Migration]) -> Result<()> {
    match applied.iter().find(|a| !core.iter().any(|m| m.version() == a.version)) {
        None => Ok(()),
        Some(unknown) => Err(bad_input(format!(
            "provision.refinery_schema_history records core version {}, which this provision does not have and no \
             blueprint in use takes over; use the provision release that made this database, or declare a tenant of \
             the blueprint whose shared part it was",
            unknown.version
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_names_say_whose_they_are() {
        let m = refinery_core::Migration::unapplied("V1__things", "SELECT 1").unwrap();
        let plan = SharedPlan {
            blueprints: vec![("widgets".to_owned(), Plan::new(std::slice::from_ref(&m), &[]))],
            ..SharedPlan::default()
        };
        assert_eq!(plan.pending(), vec!["widgets/V1__things".to_owned()]);
        assert!(!plan.is_current());
    }
}
