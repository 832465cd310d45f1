//! Verify for row tenancy (issue 14). A row tenant has no schema to compare
//! with a reference: its isolation is its blueprint's `[row]` tables (one
//! set per database, made by `shared/`), their row level security, policies
//! and foreign keys, and its row in `[row] table`. So a row blueprint in use
//! gets one catalog query (`verify_row_catalog.sql`, its `[row]` names as
//! parameters), and every row tenant's registry entry is matched with its
//! row in one query for all of them (`verify_row_registry.sql`): the number
//! of queries grows with the row blueprints, never with the tenants.
//!
//! A blueprint's findings are reported under the scope `row:<blueprint>`
//! (no tenant code has a colon), a tenant's own under its code.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use tokio_postgres::Client;

use super::{context, Check, Finding, Scope};
use crate::model::blueprint::{Blueprint, RowSpec};
use crate::model::config::Config;
use crate::store::blueprint_shared;
use crate::store::registry::Registered;

/// The checks of a row blueprint's scope, in report order (JUnit testcases).
pub const BLUEPRINT_CHECKS: &[Check] = &[Check::Structure, Check::Rls, Check::Constraints, Check::Registry];
/// The checks of one row tenant: its registry entry against its row.
pub const TENANT_CHECKS: &[Check] = &[Check::Registry];

/// The scope a row blueprint's findings are reported under.
pub fn scope(blueprint: &str) -> String {
    format!("row:{blueprint}")
}

/// Whether a registered tenant is a row tenant: registered without a
/// schema, or of a row pack ([`mismatched`] reports either without the other).
pub fn is_row_tenant(tenant: &Registered, blueprints: &HashMap<String, Blueprint>) -> bool {
    tenant.row || is_row_pack(tenant, blueprints)
}

fn is_row_pack(tenant: &Registered, blueprints: &HashMap<String, Blueprint>) -> bool {
    blueprints.get(&tenant.blueprint).is_some_and(|b| b.manifest.row.is_some())
}

/// Row tenants whose registry entry and blueprint disagree about their
/// tenancy: a schema where the pack keeps rows, or none where it keeps
/// schemas (such a tenant would otherwise be checked by neither side).
pub fn mismatched(tenants: &[Registered], blueprints: &HashMap<String, Blueprint>) -> Vec<Finding> {
    let finding = |tenant: &Registered, problem: String| Finding {
        scope: tenant.code.as_str().to_owned(),
        check: Check::Registry,
        problem,
        kind: "tenant".to_owned(),
        object: tenant.code.as_str().to_owned(),
        expected: None,
        found: None,
    };
    tenants
        .iter()
        .filter_map(|t| match (t.row, is_row_pack(t, blueprints)) {
            (true, false) => Some(finding(
                t,
                format!(
                    "{} is registered without a schema but blueprint {} keeps tenants in schemas",
                    t.code, t.blueprint
                ),
            )),
            (false, true) => Some(finding(
                t,
                format!(
                    "{} is registered with schema {} but blueprint {} keeps tenants in rows ([row])",
                    t.code, t.schema_name, t.blueprint
                ),
            )),
            _ => None,
        })
        .collect()
}

/// The row blueprints to check, by name: those of the row `tenants`, and
/// over the whole database also every row blueprint the registry names or
/// whose shared part this database records (its tables exist without any
/// tenant). A recorded blueprint whose pack no longer loads is left to the
/// shared schemas' check, as there.
pub async fn blueprints(
    client: &Client,
    config: &Config,
    tenants: &[Registered],
    loaded: &HashMap<String, Blueprint>,
    scope: Scope,
) -> Result<BTreeMap<String, RowSpec>> {
    let mut names: Vec<String> = tenants.iter().map(|t| t.blueprint.clone()).collect();
    if scope == Scope::Everything {
        let (registered, recorded) = tokio::try_join!(
            blueprint_shared::registered_blueprints(client),
            blueprint_shared::recorded_blueprints(client)
        )?;
        names.extend(registered.into_iter().chain(recorded));
    }
    let mut specs = BTreeMap::new();
    for name in names {
        if specs.contains_key(&name) {
            continue;
        }
        let blueprint = match loaded.get(&name) {
            Some(blueprint) => Some(blueprint.clone()),
            None => Blueprint::load(&config.templates_dir, &name).ok(),
        };
        if let Some(row) = blueprint.and_then(|b| b.manifest.row) {
            specs.insert(name, row);
        }
    }
    Ok(specs)
}

/// Every row blueprint's catalog, and the row tenants' registry entries
/// against their rows; rows nobody is registered for too when verifying
/// the whole database.
pub async fn check(
    client: &Client,
    specs: &BTreeMap<String, RowSpec>,
    tenants: &[Registered],
    scope: Scope,
) -> Result<Vec<Finding>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    // Pipelined on one connection: each is a single statement.
    let catalogs = futures_util::future::try_join_all(specs.iter().map(|(name, row)| catalog(client, name, row)));
    let (catalogs, registry) = tokio::try_join!(catalogs, registry(client, specs, tenants, scope))?;
    Ok(catalogs.into_iter().flatten().chain(registry).collect())
}

/// One blueprint's `[row]` tables: see `verify_row_catalog.sql`.
async fn catalog(client: &Client, name: &str, row: &RowSpec) -> Result<Vec<Finding>> {
    let rows = client
        .query(
            include_str!("../sql/verify_row_catalog.sql"),
            &[&scope(name), &row.schema, &row.table, &row.key, &row.column, &row.reference, &row.keep],
        )
        .await;
    let what = format!("cannot check the [row] tables of blueprint {name}");
    Ok(context(rows.map_err(Into::into), &what)?.iter().map(finding).collect())
}

/// The registry against the tenant tables' rows: see `verify_row_registry.sql`.
async fn registry(
    client: &Client,
    specs: &BTreeMap<String, RowSpec>,
    tenants: &[Registered],
    scope: Scope,
) -> Result<Vec<Finding>> {
    let names: Vec<&str> = specs.keys().map(String::as_str).collect();
    let field = |f: fn(&RowSpec) -> &str| specs.values().map(f).collect::<Vec<&str>>();
    let (schemas, tables, codes) = (field(|r| &r.schema), field(|r| &r.table), field(|r| &r.code));
    let statuses: Vec<Option<&str>> = specs.values().map(|r| r.status.as_deref()).collect();
    let held: Vec<&Registered> = tenants.iter().filter(|t| specs.contains_key(&t.blueprint)).collect();
    let held_codes: Vec<&str> = held.iter().map(|t| t.code.as_str()).collect();
    let held_blueprints: Vec<&str> = held.iter().map(|t| t.blueprint.as_str()).collect();
    let everything = scope == Scope::Everything;
    let rows = client
        .query(
            include_str!("../sql/verify_row_registry.sql"),
            &[&names, &schemas, &tables, &codes, &statuses, &held_codes, &held_blueprints, &everything],
        )
        .await;
    Ok(context(rows.map_err(Into::into), "cannot match the row tenants with their rows")?.iter().map(finding).collect())
}

/// A row (scope, check, kind, object, problem) of either query.
fn finding(r: &tokio_postgres::Row) -> Finding {
    let check: String = r.get(1);
    Finding {
        scope: r.get(0),
        check: Check::named(&check).unwrap_or(Check::Structure),
        problem: r.get(4),
        kind: r.get(2),
        object: r.get(3),
        expected: None,
        found: None,
    }
}
