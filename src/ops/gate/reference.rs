//! A reference tenant taken along the path a real tenant will take, inside a
//! transaction that is always rolled back: built through the versions its
//! tenants already have (finished as they were: audit triggers and guards),
//! then each pending version in turn, then finished again. The invariants
//! run after each pending version and at the end, so a violation left at the
//! end is blamed on the version after which it appeared and stayed.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;
use refinery_core::Migration;
use tokio_postgres::{Client, Transaction};

use super::hazards::file_of;
use super::invariants::{self, Violation};
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::config::TenantSpec;
use crate::model::tenant::TenantCode;
use crate::ops::admin::AdminPassword;
use crate::ops::steps::{self, Settings};
use crate::pg::statements::enum_additions;

/// A violation the pending versions would leave, and who is to blame.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// `V8__name`, or the already applied versions.
    pub version: String,
    pub file: String,
    pub violation: Violation,
}

/// What walking one reference found.
pub enum Walk {
    Refused(Vec<Refusal>),
    Clean,
    /// A version adds an enum value, usable only after a commit that this
    /// transaction never makes: the gate cannot judge it ahead; each tenant
    /// is still checked before its commit.
    Unchecked(String),
    /// A version fails on the reference (a broken template, or one that
    /// needs the tenant's rows): each tenant reports its own error.
    Failed(String),
}

/// The reference tenant. One name for every run: two runs at once wait for
/// each other's rollback on its roles and registry row, briefly.
pub fn spec(blueprint: &str) -> TenantSpec {
    let code = TenantCode::parse("provision_gate_ref").expect("a valid reference code");
    TenantSpec {
        id: crate::model::config::derived_tenant_id(&code),
        code,
        name: "provision gate reference".to_owned(),
        tenant_type: blueprint.to_owned(),
        attributes: Default::default(),
        blueprint: blueprint.to_owned(),
        partitions: Default::default(),
    }
}

fn settings(lock_timeout: Duration) -> Settings {
    Settings {
        lock_timeout,
        upgrade: Default::default(),
        admin_password: AdminPassword::Unusable,
        partitions: Default::default(),
        // Partitions and the administrator are rows and dated tables, not
        // what templates decide about isolation.
        structure_only: true,
    }
}

/// Walks `blueprint` from version `baseline` (0: a new tenant) to its
/// latest version on the reference tenant, and rolls it all back.
pub async fn walk(client: &mut Client, blueprint: &Blueprint, baseline: i32, lock_timeout: Duration) -> Result<Walk> {
    let spec = spec(&blueprint.name);
    let identity = Identity { code: spec.code.clone(), tenant_id: spec.id };
    let migrations = blueprint.render(&identity)?;
    let tx = client.transaction().await?;
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{}ms'", lock_timeout.as_millis())).await?;
    // A first tenant gets the blueprint's shared part in its transaction: so does the reference.
    let part = crate::store::layout_upgrade::SharedPart { blueprint: &blueprint.name, migrations: &blueprint.shared };
    crate::store::blueprint_shared::apply(&tx, part).await?;
    let walked = along(&tx, &spec, blueprint, &identity, &migrations, baseline, &settings(lock_timeout)).await;
    tx.rollback().await?;
    walked
}

async fn along(
    tx: &Transaction<'_>,
    spec: &TenantSpec,
    blueprint: &Blueprint,
    identity: &Identity,
    migrations: &[Migration],
    baseline: i32,
    settings: &Settings,
) -> Result<Walk> {
    let applied: Vec<Migration> = migrations.iter().filter(|m| m.version() <= baseline).cloned().collect();
    let built = steps::build(tx, spec, blueprint, identity, &applied, settings, baseline > 0).await;
    if let Err(error) = built {
        return Ok(Walk::Failed(format!("versions up to V{baseline} cannot be built: {error:#}")));
    }
    let code = &spec.code;
    // Since which version each violation has been present (0: before any
    // pending version, i.e. already applied).
    let mut since: HashMap<Violation, i32> =
        invariants::of_tenant(tx, code, blueprint).await?.into_iter().map(|v| (v, 0)).collect();
    let mut last = baseline;
    for (at, migration) in migrations.iter().enumerate().filter(|(_, m)| m.version() > baseline) {
        if let Err(error) = steps::apply_as_owner(tx, identity, &migrations[..=at]).await {
            let file = file_of(blueprint, migration.version());
            let why = format!("{migration} ({}) cannot be applied: {error:#}", file.display());
            return Ok(match enum_additions(migration.sql().unwrap_or_default()).is_empty() {
                true => Walk::Failed(why),
                false => Walk::Unchecked(why),
            });
        }
        let now = invariants::of_tenant(tx, code, blueprint).await?;
        since = now
            .into_iter()
            .map(|v| {
                let first = since.get(&v).copied().unwrap_or(migration.version());
                (v, first)
            })
            .collect();
        last = migration.version();
    }
    if let Err(error) = steps::finish(tx, code, blueprint, settings).await {
        return Ok(Walk::Failed(format!("the finishing steps after V{last} fail: {error:#}")));
    }
    let mut left = invariants::of_tenant(tx, code, blueprint).await?;
    left.sort();
    Ok(match left.is_empty() {
        true => Walk::Clean,
        false => Walk::Refused(blame(left, &since, last, baseline, blueprint, migrations)),
    })
}

/// Each violation left at the end goes to the version since which it has
/// been present; one present before the pending versions, to those applied.
fn blame(
    left: Vec<Violation>,
    since: &HashMap<Violation, i32>,
    last: i32,
    baseline: i32,
    blueprint: &Blueprint,
    migrations: &[Migration],
) -> Vec<Refusal> {
    left.into_iter()
        .map(|violation| {
            let version = since.get(&violation).copied().unwrap_or(last);
            let (version, file) = match migrations.iter().find(|m| m.version() == version && version > 0) {
                Some(m) => (m.to_string(), file_of(blueprint, version).display().to_string()),
                None => (format!("the applied versions (up to V{baseline})"), blueprint.dir.display().to_string()),
            };
            Refusal { version, file, violation }
        })
        .collect()
}
