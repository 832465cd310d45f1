//! Invariants that hold whatever the templates say: a few catalog queries
//! for the whole database (each a fixed cost, whatever the tenant count),
//! plus the rollover planner for partition coverage.

use std::collections::HashMap;

use anyhow::Result;
use tokio_postgres::Client;

use super::{context, Check, Finding};
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::ops::rollover::{self, Input};
use crate::store::registry::Registered;

/// The invariants of the schema `tenants`; the role memberships of the
/// `row_tenants` too (their roles are made and granted like any tenant's).
pub async fn check(
    client: &Client,
    tenants: &[Registered],
    row_tenants: &[Registered],
    blueprints: &HashMap<String, Blueprint>,
    config: &Config,
    shared_schemas: &[String],
) -> Result<Vec<Finding>> {
    // One connection: the queries are pipelined, and the server runs them
    // one after the other anyway.
    let (mut findings, memberships, guards, reads, unfiltered, covered) = tokio::try_join!(
        catalog(client, tenants, blueprints, shared_schemas),
        memberships(client, tenants, row_tenants),
        audit_guards(client, tenants, blueprints),
        read_audit(client, tenants, blueprints),
        unfiltered_reads(client, tenants),
        coverage(client, tenants, blueprints, config),
    )?;
    findings.extend(memberships.into_iter().chain(guards).chain(reads).chain(unfiltered).chain(covered));
    Ok(findings)
}

/// Role memberships that lead out of a tenant (another tenant's role, a
/// powerful role, …): see `verify_memberships.sql`.
async fn memberships(client: &Client, tenants: &[Registered], row_tenants: &[Registered]) -> Result<Vec<Finding>> {
    let codes: Vec<&str> = tenants.iter().chain(row_tenants).map(|t| t.code.as_str()).collect();
    let rows = client.query(include_str!("../sql/verify_memberships.sql"), &[&codes]).await;
    Ok(context(rows.map_err(Into::into), "cannot check role memberships")?.iter().map(row_finding).collect())
}

/// Both guards, present and enabled, on every table of every audited
/// tenant's audit log, archived partitions included.
async fn audit_guards(
    client: &Client,
    tenants: &[Registered],
    blueprints: &HashMap<String, Blueprint>,
) -> Result<Vec<Finding>> {
    let codes: Vec<&str> =
        tenants.iter().filter(|t| blueprints[&t.blueprint].manifest.audit.is_some()).map(|t| t.code.as_str()).collect();
    let rows = client.query(include_str!("../sql/verify_audit_guards.sql"), &[&codes]).await;
    Ok(context(rows.map_err(Into::into), "cannot check the audit guards")?.iter().map(row_finding).collect())
}

/// Read auditing through pgaudit for `[audit] reads` tables: the grants to
/// the auditor role, the database's `pgaudit.role`, and an auditor role
/// nobody can use (see `store::read_audit`).
async fn read_audit(
    client: &Client,
    tenants: &[Registered],
    blueprints: &HashMap<String, Blueprint>,
) -> Result<Vec<Finding>> {
    let (mut codes, mut schemas, mut tables) = (Vec::new(), Vec::new(), Vec::new());
    for tenant in tenants {
        for table in blueprints[&tenant.blueprint].manifest.audit.iter().flat_map(|a| a.reads.iter()) {
            codes.push(tenant.code.as_str());
            schemas.push(tenant.schema_name.as_str());
            tables.push(table.as_str());
        }
    }
    let state = context(crate::store::read_audit::state(client).await, "cannot check read auditing")?;
    let rows = client
        .query(
            include_str!("../sql/verify_read_audit.sql"),
            &[&codes, &schemas, &tables, &state.loaded, &state.configured],
        )
        .await;
    Ok(context(rows.map_err(Into::into), "cannot check read auditing")?.iter().map(row_finding).collect())
}

/// Materialized views, foreign tables and definer views through which app
/// and read-only roles read rows that RLS never filters.
async fn unfiltered_reads(client: &Client, tenants: &[Registered]) -> Result<Vec<Finding>> {
    let codes: Vec<&str> = tenants.iter().map(|t| t.code.as_str()).collect();
    let schemas: Vec<&str> = tenants.iter().map(|t| t.schema_name.as_str()).collect();
    let rows = client.query(include_str!("../sql/verify_unfiltered_reads.sql"), &[&codes, &schemas]).await;
    Ok(context(rows.map_err(Into::into), "cannot check for unfiltered reads")?.iter().map(row_finding).collect())
}

/// A row (scope, check, kind, object, problem) of an invariant query.
fn row_finding(r: &tokio_postgres::Row) -> Finding {
    Finding {
        scope: r.get(0),
        check: static_check(r.get(1)),
        problem: r.get(4),
        kind: r.get(2),
        object: r.get(3),
        expected: None,
        found: None,
    }
}

async fn catalog(
    client: &Client,
    tenants: &[Registered],
    blueprints: &HashMap<String, Blueprint>,
    shared_schemas: &[String],
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
            .query(
                include_str!("../sql/verify_invariants.sql"),
                &[&codes, &schemas, &audited, &ex_codes, &ex_tables, &shared_schemas],
            )
            .await
            .map_err(Into::into),
        "cannot check the invariants",
    )?;
    Ok(rows.iter().map(row_finding).collect())
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
    let plan = rollover::plan(client, &inputs, None, rollover::DefaultRows::Leave).await?;
    Ok(plan
        .into_iter()
        .flat_map(|(code, actions)| {
            actions.into_iter().filter(|a| a.creates()).map(
                move |a| Finding {
                    scope: code.clone(),
                    check: Check::Partitions,
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

/// The check an invariant query names; every query names one of [`Check`]
/// (a unit test of `Check::named` keeps the names in step).
fn static_check(name: String) -> Check {
    Check::named(&name).unwrap_or(Check::Structure)
}
