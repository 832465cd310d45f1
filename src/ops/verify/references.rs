//! The reference tenants verify compares against: one per (blueprint,
//! applied version), built from the templates exactly as `tenant add` builds
//! a tenant, inside the caller's transaction, which is rolled back.
//!
//! A blueprint whose versions add enum values cannot be built in one
//! transaction (a new value is usable only after a commit), so its reference
//! is created for real in a throwaway database and read there.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::Result;
use tokio_postgres::{Client, Row, Transaction};

use super::{context, reference_spec};
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::config::TenantSpec;
use crate::ops::admin::AdminPassword;
use crate::ops::provisioner::{self, Settings};
use crate::pg::connection::Target;
use crate::store::registry::Registered;

/// The reference of each group, in group order.
pub fn identities(groups: &BTreeMap<(String, i32), Vec<&Registered>>) -> Vec<Identity> {
    groups
        .keys()
        .enumerate()
        .map(|(index, (blueprint, _))| {
            let spec = reference_spec(blueprint, index);
            Identity { code: spec.code, tenant_id: spec.id }
        })
        .collect()
}

/// Rows read in the throwaway database: object names, digest, fingerprint.
pub struct Scratch {
    pub names: Vec<Row>,
    pub digest: super::digest::Digest,
    pub fingerprint: Vec<Row>,
}

fn settings() -> Settings {
    Settings {
        lock_timeout: Duration::from_secs(60),
        upgrade: Default::default(),
        admin_password: AdminPassword::Unusable,
        partitions: Default::default(),
        // Partitions and the administrator are not compared, and making
        // them is a third of the reference's cost.
        structure_only: true,
    }
}

pub async fn build(
    tx: &Transaction<'_>,
    target: &Target,
    groups: &BTreeMap<(String, i32), Vec<&Registered>>,
    blueprints: &HashMap<String, Blueprint>,
) -> Result<Option<Scratch>> {
    let settings = settings();
    let mut elsewhere = Vec::new();
    for (index, ((blueprint, version), _)) in groups.iter().enumerate() {
        let spec = reference_spec(blueprint, index);
        let identity = Identity { code: spec.code.clone(), tenant_id: spec.id };
        let bp = &blueprints[blueprint];
        let migrations: Vec<_> = bp.render(&identity)?.into_iter().filter(|m| m.version() <= *version).collect();
        if migrations.iter().any(|m| !crate::pg::statements::enum_additions(m.sql().unwrap_or_default()).is_empty()) {
            elsewhere.push((spec, *version));
            continue;
        }
        context(
            crate::ops::steps::build(tx, &spec, bp, &identity, &migrations, &settings, true).await,
            "cannot build the reference schema",
        )?;
    }
    Ok(match elsewhere.is_empty() {
        true => None,
        false => {
            // CREATE DATABASE cannot run in the transaction: another connection.
            let admin = super::side_connection(target).await?;
            Some(in_scratch_database(&admin, target, &elsewhere, blueprints, &settings).await?)
        }
    })
}

/// Creates the references in a throwaway database (shared migrations, then
/// each tenant as `tenant add` makes it), reads them, and drops it all.
async fn in_scratch_database(
    client: &Client,
    target: &Target,
    specs: &[(TenantSpec, i32)],
    blueprints: &HashMap<String, Blueprint>,
    settings: &Settings,
) -> Result<Scratch> {
    let name = super::scratch::create(client, "ref_").await?;
    let result = async {
        let mut scratch = target.with_dbname(&name).connect().await?;
        let parts: Vec<_> = blueprints
            .values()
            .map(|bp| crate::store::layout_upgrade::SharedPart { blueprint: &bp.name, migrations: &bp.shared })
            .collect();
        crate::store::shared::apply(&mut scratch, settings.lock_timeout, &crate::report::Silent, &parts).await?;
        let mut schemas = vec!["audit".to_owned()];
        for (spec, version) in specs {
            let bp = &blueprints[&spec.blueprint];
            if *version != bp.latest_version() {
                return Err(crate::error::failed(format!(
                    "verify cannot yet build a reference for blueprint {} at version {version} (its versions add enum \
                     values): upgrade the tenants to version {} first",
                    spec.blueprint,
                    bp.latest_version()
                )));
            }
            provisioner::create(&mut scratch, spec, bp, settings, &crate::report::Silent).await?;
            schemas.push(spec.code.schema_name());
        }
        let (names, digest, fingerprint) = super::digest::digest_of(&scratch, &schemas).await?;
        Ok(Scratch { names, digest, fingerprint })
    }
    .await;
    let dropped = super::scratch::drop(client, &name).await;
    // Roles outlive databases: the references' roles go too (best effort;
    // another verify running at the same moment may still use them).
    for (spec, _) in specs {
        let code = &spec.code;
        let roles = [code.owner_role(), code.app_role(), code.ro_role()].map(|r| crate::pg::quote::quote_ident(&r));
        let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {}", roles.join(", "))).await;
    }
    let scratch = context(result, "cannot build the reference schema")?;
    dropped?;
    Ok(scratch)
}
