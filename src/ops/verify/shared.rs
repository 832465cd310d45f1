//! The shared schemas (`shared`, `audit`, the history schema, and those the
//! shared parts of the database's blueprints create) against the shared
//! migrations: provision's own and the shared part of every blueprint this
//! database records a shared history for, applied to a throwaway database,
//! then both fingerprinted with the same query over the schemas the
//! reference holds (its image is cached locally, see `cache.rs`). Refinery
//! checksums must match too.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Result;
use tokio_postgres::Client;

use super::{context, Check, Difference, Finding};
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::pg::connection::Target;
use crate::store::layout_upgrade::SharedPart;
use crate::store::{blueprint_shared, migrate};

/// provision's own schemas: the registry, the audit machinery, the histories.
const CORE_SCHEMAS: &[&str] = &["shared", "audit", migrate::HISTORY_SCHEMA];

/// Every shared schema, for the invariants: provision's own, then those the
/// blueprints in use declare in `[shared] schemas`. The core names no
/// blueprint's schema itself.
pub async fn schemas(client: &Client, config: &Config) -> Result<Vec<String>> {
    let mut schemas: Vec<String> = CORE_SCHEMAS.iter().map(|s| (*s).to_owned()).collect();
    for blueprint in crate::ops::shared_parts::in_use(client, config).await? {
        for schema in blueprint.manifest.shared.schemas {
            if !schemas.contains(&schema) {
                schemas.push(schema);
            }
        }
    }
    Ok(schemas)
}

pub async fn compare(client: &Client, target: &Target, templates: &Path) -> Result<Vec<Finding>> {
    let recorded = blueprint_shared::recorded_blueprints(client).await?;
    let loaded: Vec<Blueprint> = recorded.iter().filter_map(|name| Blueprint::load(templates, name).ok()).collect();
    let parts = crate::ops::shared_parts::parts(&loaded);
    let mut findings = checksums(client, &parts).await?;
    let expected = expected(client, target, &parts).await?;
    let schemas: Vec<&str> =
        expected.keys().filter(|(kind, _)| kind == "schema").map(|(_, name)| name.as_str()).collect();
    let found = fingerprint(client, &schemas).await?;
    let (expected, found): (HashMap<_, _>, HashMap<_, _>) =
        (expected.into_iter().collect(), found.into_iter().collect());
    for (problem, key) in super::differences(&expected, &found) {
        if problem == Difference::Changed && super::canonical::same_definition(&expected[&key], &found[&key]) {
            continue;
        }
        findings.push(finding(problem, &key, expected.get(&key), found.get(&key)));
    }
    Ok(findings)
}

async fn checksums(client: &Client, parts: &[SharedPart<'_>]) -> Result<Vec<Finding>> {
    let plan = crate::store::shared::plan(client, parts).await?;
    Ok(plan
        .edited()
        .into_iter()
        .map(|(name, _)| Finding {
            scope: "shared".to_owned(),
            check: Check::Checksums,
            problem: "changed: the applied migration differs from the one in this binary".to_owned(),
            kind: "migration".to_owned(),
            object: name,
            expected: None,
            found: None,
        })
        .collect())
}

/// The reference image: from the local cache when this binary has built it
/// for this server before (see `cache.rs`), else built and cached.
async fn expected(
    client: &Client,
    target: &Target,
    parts: &[SharedPart<'_>],
) -> Result<BTreeMap<(String, String), String>> {
    let location = super::cache::location(client, parts).await?;
    if let Some(image) = location.as_ref().and_then(super::cache::read) {
        return Ok(image);
    }
    let image = reference(client, target, parts).await?;
    if let Some(path) = &location {
        super::cache::write(path, &image);
    }
    Ok(image)
}

/// Applies the shared migrations to a throwaway database and fingerprints
/// every schema they made there.
async fn reference(
    client: &Client,
    target: &Target,
    parts: &[SharedPart<'_>],
) -> Result<BTreeMap<(String, String), String>> {
    let name = super::scratch::create(client, "").await?;
    let result = async {
        let mut scratch = target.with_dbname(&name).connect().await?;
        let tx = scratch.transaction().await?;
        tx.batch_execute(&format!("CREATE SCHEMA {}", migrate::HISTORY_SCHEMA)).await?;
        migrate::apply(&tx, &migrate::shared_migrations(), &migrate::shared_history_table()).await?;
        for part in parts {
            blueprint_shared::apply(&tx, *part).await?;
        }
        tx.commit().await?;
        let made: Vec<String> = scratch
            .query(include_str!("../sql/verify_shared_schemas.sql"), &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        fingerprint(&scratch, &made.iter().map(String::as_str).collect::<Vec<_>>()).await
    }
    .await;
    let dropped = super::scratch::drop(client, &name).await;
    let image = context(result, "cannot build the reference of the shared schemas")?;
    dropped?;
    Ok(image)
}

/// The shared schemas' fingerprint, less the tenants' own audit logs.
async fn fingerprint(client: &Client, schemas: &[&str]) -> Result<BTreeMap<(String, String), String>> {
    // The tenants' audit logs are the tenants' business (their own check).
    let tenant_audit_logs = Some(r"%\_audit\_log");
    let rows = client.query(include_str!("../sql/verify_fingerprint.sql"), &[&schemas, &tenant_audit_logs]).await?;
    let mut image = BTreeMap::new();
    for row in &rows {
        let (schema, kind, name, detail): (String, String, String, Option<String>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if schema == "audit" && is_tenant_audit_object(&name) {
            continue;
        }
        let qualified = if kind == "schema" { name } else { format!("{schema}.{name}") };
        image.insert((kind, qualified), detail.unwrap_or_default());
    }
    Ok(image)
}

/// `lic_audit_log`, `lic_audit_log.col`, `lic_audit_log_pkey`, … belong to a tenant.
fn is_tenant_audit_object(name: &str) -> bool {
    name.split('.').next().is_some_and(|first| first.contains("_audit_log"))
}

fn finding(
    problem: Difference,
    (kind, name): &(String, String),
    expected: Option<&String>,
    found: Option<&String>,
) -> Finding {
    Finding {
        scope: "shared".to_owned(),
        check: Check::Structure,
        problem: problem.as_str().to_owned(),
        kind: kind.clone(),
        object: name.clone(),
        expected: expected.cloned(),
        found: found.cloned(),
    }
}
