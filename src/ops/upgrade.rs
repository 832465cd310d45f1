//! Bringing one tenant up to its blueprint's latest version.
//!
//! Pending versions run in as few transactions as possible: consecutive
//! ordinary versions share one (all-or-nothing), while a version marked
//! `-- provision: no-transaction` (CREATE INDEX CONCURRENTLY on a tenant
//! holding data) runs statement by statement outside any transaction and is
//! recorded only after it succeeded. refinery cannot run a migration outside
//! a transaction (its issue #277), so that path is ours; it writes the same
//! history row refinery would. A re-run resumes where a failure stopped, and
//! recovers a half-built concurrent index (INVALID: dropped and rebuilt).
//!
//! The last transaction also finishes the tenant (partitions, audit
//! triggers, RLS on partitions, a pending administrator: see
//! [`crate::ops::completion`]), so the versions and what completes them commit
//! together; when the last version runs outside a transaction, a completing
//! transaction follows. With nothing pending, an upgrade just completes the
//! tenant, so a crash between two transactions is repaired by the next run.
//!
//! Enum values: PostgreSQL 15 refuses to use a value added in the same
//! transaction, so `ALTER TYPE … ADD VALUE IF NOT EXISTS` statements are run
//! and committed first; inside the version's transaction they are no-ops.

use anyhow::{Context as _, Result};
use refinery_core::Migration;
use tokio_postgres::Client;

use crate::error::{bad_input, failed};
use crate::model::blueprint::{Blueprint, Identity};
use crate::ops::completion::Completed;
use crate::ops::steps::{self, history_table, Outcome, Settings};
use crate::pg::owned_ddl::Lasting;
use crate::pg::quote::quote_ident;
use crate::pg::statements;
use crate::report::Reporter;
use crate::store::migrate::{self, Plan};
use crate::store::registry::Registered;
use crate::store::{lock, roles};

/// A run of pending versions that execute together.
enum Segment {
    /// Ordinary versions up to this one, in one transaction.
    Transaction(Vec<Migration>),
    /// One version outside any transaction.
    Outside(Migration),
}

/// Applies what is pending for `tenant`; refuses a tenant whose applied
/// versions were edited since they ran.
pub async fn upgrade(
    client: &mut Client,
    tenant: &Registered,
    blueprint: &Blueprint,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Result<Outcome> {
    let identity = Identity { code: tenant.code.clone(), tenant_id: tenant.id };
    let migrations = blueprint.render(&identity)?;
    let plan = Plan::new(&migrations, &tenant.applied);
    refuse_edited(tenant, blueprint, &plan)?;
    if plan.pending.is_empty() {
        return crate::ops::completion::complete(client, tenant, blueprint, settings, reporter).await;
    }
    let before = steps::count_objects_outside(client, &tenant.schema_name).await?;
    let mut applied = Vec::new();
    let segments = segments(&plan.pending);
    let last = segments.len() - 1;
    let (mut earlier, mut completed) = (Completed::default(), None);
    // Each transaction of an established tenant leaves it complete (and
    // passes the gate). A tenant still being created is completed only by
    // the last one: before that its audit log may not exist yet, and the
    // rows later versions seed must not be audited, as in a one-transaction
    // build.
    let established = established(client, tenant, blueprint).await?;
    for (index, segment) in segments.into_iter().enumerate() {
        let done = match segment {
            Segment::Transaction(pending) => {
                let finishing = (index == last || established).then_some(blueprint);
                in_transaction(client, &identity, &migrations, &pending, settings, reporter, finishing).await
            }
            Segment::Outside(migration) => {
                outside_transaction(client, &identity, &migration, settings).await.map(|names| (names, None))
            }
        };
        let (names, finished) = done.with_context(|| {
            let versions = crate::report::count_of(applied.len(), plan.pending.len(), "pending version");
            format!("tenant {} stopped after {versions}", tenant.code)
        })?;
        applied.extend(names);
        // Only the last segment's completion counts as the tenant's: after
        // a version outside a transaction, a completing transaction follows.
        match index == last {
            true => completed = finished,
            false => earlier.absorb(finished),
        }
        crate::failpoint::hit("upgrade.after_segment");
    }
    let completed = match completed {
        Some(completed) => completed,
        None => complete_alone(client, &identity, blueprint, settings, reporter).await?,
    };
    let objects = steps::count_objects_outside(client, &tenant.schema_name).await? - before;
    let version = blueprint.latest_version();
    let (partitions, admin) = (earlier.partitions + completed.partitions, completed.admin.or(earlier.admin));
    Ok(Outcome::Upgraded { from: tenant.version(), version, applied, partitions, objects, admin })
}

/// Whether `tenant` is past its creation: the blueprint audits nothing, or
/// the tenant's audit log exists.
async fn established(client: &Client, tenant: &Registered, blueprint: &Blueprint) -> Result<bool> {
    if blueprint.manifest.audit.is_none() {
        return Ok(true);
    }
    let log = format!("audit.{}", quote_ident(&tenant.code.audit_log_name()));
    Ok(client.query_one("SELECT pg_catalog.to_regclass($1) IS NOT NULL", &[&log]).await?.get(0))
}

/// The finishing transaction after a last version that ran outside one.
async fn complete_alone(
    client: &mut Client,
    identity: &Identity,
    blueprint: &Blueprint,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Result<Completed> {
    let tx = steps::begin_locked(client, &identity.code, settings.lock_timeout, reporter).await?;
    let completed = crate::ops::completion::complete_in(&tx, identity, blueprint, settings).await?;
    crate::ops::gate::check_tenant(&tx, &identity.code, blueprint).await?;
    tx.commit().await?;
    Ok(completed)
}

/// An applied template that changed would make this tenant differ from
/// every tenant created later: a human decides (`tenant repair`).
fn refuse_edited(tenant: &Registered, blueprint: &Blueprint, plan: &Plan) -> Result<()> {
    let Some((name, version)) = plan.edited.first() else { return Ok(()) };
    let file = blueprint.steps.iter().find(|s| s.version == *version).map(|s| s.file.display().to_string());
    Err(failed(format!(
        "tenant {}: applied version {name} was edited since it ran ({}); restore the file or, if the change is \
         intended, run `provision tenant repair {} --accept-checksums`",
        tenant.code,
        file.unwrap_or_else(|| "file missing".to_owned()),
        tenant.code
    )))
}

fn segments(pending: &[Migration]) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut batch: Vec<Migration> = Vec::new();
    for migration in pending {
        if statements::wants_no_transaction(migration.sql().unwrap_or_default()) {
            if !batch.is_empty() {
                segments.push(Segment::Transaction(std::mem::take(&mut batch)));
            }
            segments.push(Segment::Outside(migration.clone()));
        } else {
            batch.push(migration.clone());
        }
    }
    if !batch.is_empty() {
        segments.push(Segment::Transaction(batch));
    }
    segments
}

/// One transaction of versions; `finishing`: the last one, which also
/// completes the tenant before the gate and COMMIT.
async fn in_transaction(
    client: &mut Client,
    identity: &Identity,
    all: &[Migration],
    pending: &[Migration],
    settings: &Settings,
    reporter: &dyn Reporter,
    finishing: Option<&Blueprint>,
) -> Result<(Vec<String>, Option<Completed>)> {
    hoist_enum_values(client, identity, pending).await?;
    let last = pending.last().map_or(0, |m| m.version());
    // refinery checks the applied history against the list: give it every
    // version up to this segment's last, of which exactly `pending` is new.
    let upto: Vec<Migration> = all.iter().filter(|m| m.version() <= last).cloned().collect();
    let tx = steps::begin_locked(client, &identity.code, settings.lock_timeout, reporter).await?;
    tx.batch_execute(&timeouts(settings)).await?;
    let applied = steps::apply_as_owner(&tx, identity, &upto).await?;
    let completed = match finishing {
        Some(blueprint) => Some(crate::ops::completion::complete_in(&tx, identity, blueprint, settings).await?),
        None => None,
    };
    if let Some(blueprint) = finishing {
        crate::ops::gate::check_tenant(&tx, &identity.code, blueprint).await?;
    }
    tx.commit().await?;
    Ok((steps::names(&applied), completed))
}

fn timeouts(settings: &Settings) -> String {
    let statement = settings.upgrade.statement.map_or(0, |d| d.as_millis());
    format!(
        "SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{statement}ms'",
        settings.upgrade.ddl.as_millis()
    )
}

/// Commits the enum values `pending` adds before their transaction uses them.
async fn hoist_enum_values(client: &Client, identity: &Identity, pending: &[Migration]) -> Result<()> {
    for migration in pending {
        for statement in statements::enum_additions(migration.sql().unwrap_or_default()) {
            if !statement.to_ascii_uppercase().contains("IF NOT EXISTS") {
                return Err(bad_input(format!(
                    "{migration}: write `ALTER TYPE … ADD VALUE IF NOT EXISTS …` so provision can commit the new value \
                     before the version's transaction uses it"
                )));
            }
            let type_name = statement.split_whitespace().nth(2).unwrap_or_default().to_owned();
            let exists: bool = client.query_one("SELECT to_regtype($1) IS NOT NULL", &[&type_name]).await?.get(0);
            if exists {
                roles::act_as_owner(client, identity, Lasting::Session).await?;
                let added = client.batch_execute(&statement).await;
                roles::stop_acting(client, Lasting::Session).await?;
                added.with_context(|| format!("{migration}: cannot add the enum value ahead of the version"))?;
                crate::failpoint::hit("upgrade.after_enum_value");
            }
        }
    }
    Ok(())
}

/// One `no-transaction` version: session locks, each statement on its own,
/// a half-built concurrent index rebuilt, the history row last.
async fn outside_transaction(
    client: &mut Client,
    identity: &Identity,
    migration: &Migration,
    settings: &Settings,
) -> Result<Vec<String>> {
    client.batch_execute(&format!("SET lock_timeout = '{}ms'", settings.lock_timeout.as_millis())).await?;
    lock::session_take_tenant(client, &identity.code).await.context("cannot take the tenant's lock")?;
    let result = run_outside(client, identity, migration, settings).await;
    client
        .batch_execute(&format!(
            "{}; RESET lock_timeout; RESET statement_timeout",
            roles::stop_acting_sql(Lasting::Session)
        ))
        .await?;
    lock::session_release_tenant(client, &identity.code).await?;
    result
}

async fn run_outside(
    client: &Client,
    identity: &Identity,
    migration: &Migration,
    settings: &Settings,
) -> Result<Vec<String>> {
    let table = history_table(&identity.code);
    let done: bool = client
        .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE version = $1)"), &[&migration.version()])
        .await?
        .get(0);
    if done {
        return Ok(Vec::new()); // another process finished it while we waited
    }
    client
        .batch_execute(&format!(
            "{}; SET lock_timeout = '{}ms'; SET statement_timeout = '{}ms'",
            roles::act_as_owner_sql(identity, Lasting::Session),
            settings.upgrade.ddl.as_millis(),
            settings.upgrade.statement.map_or(0, |d| d.as_millis())
        ))
        .await?;
    for statement in statements::split(migration.sql().unwrap_or_default()) {
        if let Some(index) = statements::concurrent_index_name(&statement) {
            if !prepare_concurrent_index(client, &identity.code.schema_name(), &index).await? {
                continue; // built and valid already
            }
        }
        client
            .batch_execute(&statement)
            .await
            .with_context(|| format!("{migration}: statement failed: {}", first_line(&statement)))?;
        crate::failpoint::hit("upgrade.after_outside_statement");
    }
    client.batch_execute(&migrate::history_insert_sql(migration, &table)).await?;
    Ok(vec![migration.to_string()])
}

/// Whether the index still has to be built: a valid one is kept; an
/// INVALID one (a killed CREATE INDEX CONCURRENTLY) is dropped first.
async fn prepare_concurrent_index(client: &Client, schema: &str, index: &str) -> Result<bool> {
    let row = client
        .query_opt(
            "SELECT i.indisvalid FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &index],
        )
        .await?;
    match row.map(|r| r.get::<_, bool>(0)) {
        Some(true) => Ok(false),
        Some(false) => {
            client
                .batch_execute(&format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {}.{}",
                    quote_ident(schema),
                    quote_ident(index)
                ))
                .await?;
            Ok(true)
        }
        None => Ok(true),
    }
}

fn first_line(statement: &str) -> String {
    statement
        .lines()
        .find(|l| !l.trim_start().starts_with("--") && !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}
