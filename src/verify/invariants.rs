//! Invariants that hold whatever the templates say: one catalog query for
//! the whole database, plus the rollover planner for partition coverage.

use std::collections::HashMap;

use anyhow::Result;
use tokio_postgres::Client;

use super::{context, Finding};
use crate::blueprint::Blueprint;
use crate::config::Config;
use crate::registry::Registered;
use crate::rollover::{self, Input};

pub async fn check(
    client: &Client,
    tenants: &[Registered],
    blueprints: &HashMap<String, Blueprint>,
    config: &Config,
) -> Result<Vec<Finding>> {
    let mut findings = catalog(client, tenants, blueprints).await?;
    findings.extend(coverage(client, tenants, blueprints, config).await?);
    Ok(findings)
}

async fn catalog(
    client: &Client,
    tenants: &[Registered],
    blueprints: &HashMap<String, Blueprint>,
) -> Result<Vec<Finding>> {
    let codes: Vec<&str> = tenants.iter().map(|t| t.code.as_str()).collect();
    let schemas: Vec<&str> = tenants.iter().map(|t| t.schema_name.as_str()).collect();
    let audited: Vec<bool> = tenants.iter().map(|t| blueprints[&t.blueprint].manifest.audit.is_some()).collect();
    let (mut ex_codes, mut ex_tables) = (Vec::new(), Vec::new());
    for tenant in tenants {
        for table in blueprints[&tenant.blueprint].manifest.audit.iter().flat_map(|a| a.exclude.iter()) {
            ex_codes.push(tenant.code.as_str());
            ex_tables.push(table.as_str());
        }
    }
    let rows = context(
        client
            .query(include_str!("../sql/verify_invariants.sql"), &[&codes, &schemas, &audited, &ex_codes, &ex_tables])
            .await
            .map_err(Into::into),
        "cannot check the invariants",
    )?;
    Ok(rows
        .iter()
        .map(|r| Finding {
            scope: r.get(0),
            check: static_check(r.get(1)),
            problem: r.get(4),
            kind: r.get(2),
            object: r.get(3),
            expected: None,
            found: None,
        })
        .collect())
}

/// Partitions must cover the current period through premake, without gaps:
/// whatever rollover would create now is missing.
async fn coverage(
    client: &Client,
    tenants: &[Registered],
    blueprints: &HashMap<String, Blueprint>,
    config: &Config,
) -> Result<Vec<Finding>> {
    let settings = config.partition_settings();
    let inputs: Vec<Input> = tenants
        .iter()
        .flat_map(|t| {
            let overrides = settings.for_tenant(&t.code);
            blueprints[&t.blueprint].partitions_of(&t.code, &overrides).into_iter().map(move |spec| Input {
                code: t.code.clone(),
                spec,
                archive: None,
            })
        })
        .collect();
    let plan = rollover::plan(client, &inputs, None).await?;
    Ok(plan
        .into_iter()
        .flat_map(|(code, actions)| {
            actions.into_iter().filter(|a| a.kind == "attach" || (a.kind == "create" && a.target.ends_with("_default"))).map(
                move |a| Finding {
                    scope: code.clone(),
                    check: "partitions",
                    problem: "missing: partitions must cover now through premake periods ahead (run `provision partitions rollover`)"
                        .to_owned(),
                    kind: "partition".to_owned(),
                    object: a.target,
                    expected: None,
                    found: None,
                },
            )
        })
        .collect())
}

fn static_check(name: String) -> &'static str {
    super::TENANT_CHECKS.iter().chain(super::SHARED_CHECKS).find(|c| **c == name).copied().unwrap_or("structure")
}
