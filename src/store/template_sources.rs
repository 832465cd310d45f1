//! `shared.template_sources` (core V18): every source a blueprint's tenant
//! versions had when provision applied them. A version's rendered SQL is a
//! function of its source and the tenant's identity only, so the applied SQL
//! of any tenant can be rendered again from here and diffed with today's
//! template (`status`, `tenant upgrade --dry-run`) instead of being known
//! only by a checksum.

use anyhow::{Context as _, Result};
use tokio_postgres::GenericClient;

use crate::model::blueprint::Blueprint;

/// Records `blueprint`'s current sources (a no-op for known ones), when the
/// database has the table (core V18). Called once per run, before any
/// version of the blueprint is applied.
pub async fn record(client: &impl GenericClient, blueprint: &Blueprint) -> Result<()> {
    if blueprint.steps.is_empty() {
        return Ok(());
    }
    let (mut versions, mut names, mut sources) = (Vec::new(), Vec::new(), Vec::new());
    for step in &blueprint.steps {
        versions.push(step.version);
        names.push(step.migration_name.as_str());
        sources.push(step.source());
    }
    client
        .execute(include_str!("sql/template_sources_record.sql"), &[&blueprint.name, &versions, &names, &sources])
        .await
        .with_context(|| {
            format!("cannot record the templates of blueprint {} in shared.template_sources", blueprint.name)
        })?;
    Ok(())
}

/// Every source version `version` of `blueprint` has had, newest first.
pub async fn sources(client: &impl GenericClient, blueprint: &str, version: i32) -> Result<Vec<String>> {
    let exists: bool = client.query_one("SELECT to_regclass('shared.template_sources') IS NOT NULL", &[]).await?.get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client.query(include_str!("sql/template_sources_read.sql"), &[&blueprint, &version]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
