//! Row tenancy (issue 14): a tenant of a `tenancy = "row"` pack is one row
//! of the pack's tenant table plus every row that carries its key in the
//! tenant column, in tables the pack's `shared/` part made once for all
//! tenants. It has no schema; it has the same registry entry and the same
//! `<code>_app` / `<code>_ro` roles as a schema tenant, which the pack's
//! policies check through `shared.tenant_role_member` (core V17).
//!
//! This module owns what the core does to such a tenant's rows: create
//! (here), back up ([`backup`]) and remove ([`remove`]). Everything it names
//! comes from the pack's `[row]`, quoted; it never names a table itself.

pub mod backup;
pub mod remove;

use anyhow::{Context as _, Result};
use serde_json::{Map, Value};
use tokio_postgres::{GenericClient, Transaction};

use crate::error::failed;
use crate::model::attributes::Resolved;
use crate::model::blueprint::{Blueprint, RowSpec};
use crate::model::config::TenantSpec;
use crate::model::tenant::TenantCode;
use crate::ops::steps::Outcome;
use crate::pg::quote::quote_ident;
use crate::store::{registry, roles};

/// The pack's `[row]`, or the error for a tenant whose blueprint has none.
pub fn spec(blueprint: &Blueprint) -> Result<&RowSpec> {
    blueprint.manifest.row.as_ref().ok_or_else(|| {
        failed(format!(
            "blueprint {} keeps tenants in schemas, not rows; this tenant's registry entry is wrong",
            blueprint.name
        ))
    })
}

/// `"schema"."table"` of the tenant table, or of `table` in the pack's schema.
pub fn qualified(row: &RowSpec, table: &str) -> String {
    format!("{}.{}", quote_ident(&row.schema), quote_ident(table))
}

/// The tenant's key in the tenant table (as text), when its row exists.
pub async fn key(client: &impl GenericClient, row: &RowSpec, code: &TenantCode) -> Result<Option<String>> {
    let table = qualified(row, &row.table);
    let sql = crate::pg::script::render(
        include_str!("../sql/row_tenant_key.sql"),
        &[("table", &table), ("key", &quote_ident(&row.key)), ("code", &quote_ident(&row.code))],
    )?;
    let found = client.query_opt(&sql, &[&code.as_str()]).await.with_context(|| format!("cannot read {table}"))?;
    Ok(found.map(|r| r.get(0)))
}

/// Creates row tenant `spec` in `tx` (which holds its lock, and has
/// applied the pack's shared part when it is the first tenant) and commits:
/// its roles, its row in the tenant table (code, name and attributes) and
/// its registry entry, all or nothing.
pub async fn create(tx: Transaction<'_>, spec: &TenantSpec, blueprint: &Blueprint) -> Result<Outcome> {
    let row = self::spec(blueprint)?;
    // Held to the policies, a non-superuser would insert into a table it cannot see: refuse instead.
    tx.batch_execute("SET LOCAL row_security = off").await?;
    // Both only read: in flight together, one round trip.
    let (registered, taken) = tokio::try_join!(registry::snapshot(&tx, Some(&spec.code)), key(&tx, row, &spec.code))?;
    if !registered.is_empty() {
        return Ok(Outcome::AlreadyExists);
    }
    if taken.is_some() {
        return Err(failed(format!(
            "cannot create tenant {}: {} already holds a row with {} = '{}' that is not registered; delete it first",
            spec.code,
            qualified(row, &row.table),
            row.code,
            spec.code
        )));
    }
    roles::ensure(&tx, &spec.code).await?;
    tx.batch_execute(&anchor_sql(&spec.code)?).await?;
    insert_row(&tx, row, spec).await?;
    registry::insert(&tx, spec, true).await?;
    tx.commit().await?;
    let version = blueprint.shared.last().map_or(0, |m| m.version());
    Ok(Outcome::Created { version, applied: Vec::new(), partitions: 0, objects: 1, admin: None })
}

/// `sql/row_tenant_anchor.sql`: the object that keeps the tenant's roles
/// while another database of the cluster still uses them.
pub fn anchor_sql(code: &TenantCode) -> Result<String> {
    let owner = crate::pg::quote::quote_literal(&code.owner_role());
    crate::pg::script::render(include_str!("../sql/row_tenant_anchor.sql"), &[("owner", &owner)])
}

/// Inserts the tenant row: code, name and each attribute into the column of
/// its name; the server casts each value to its column's type.
async fn insert_row(client: &impl GenericClient, row: &RowSpec, spec: &TenantSpec) -> Result<()> {
    let (sql, values) = insert_statement(row, spec)?;
    client
        .query_one(&sql, &[&values])
        .await
        .with_context(|| format!("cannot insert tenant {}'s row into {}", spec.code, qualified(row, &row.table)))?;
    Ok(())
}

/// `sql/row_tenant_insert.sql` for `spec`, and its one parameter (`tenant
/// render` prints both, as PREPARE and EXECUTE).
pub fn insert_statement(row: &RowSpec, spec: &TenantSpec) -> Result<(String, Value)> {
    let mut values = Map::new();
    values.insert(row.code.clone(), Value::from(spec.code.as_str()));
    values.insert(row.name.clone(), Value::from(spec.name.as_str()));
    for (name, value) in Resolved::configured(&spec.attributes) {
        values.insert(name.clone(), Value::from(value.as_str()));
    }
    let columns: Vec<String> = values.keys().map(|c| quote_ident(c)).collect();
    let table = qualified(row, &row.table);
    let sql = crate::pg::script::render(
        include_str!("../sql/row_tenant_insert.sql"),
        &[("table", &table), ("columns", &columns.join(", ")), ("key", &quote_ident(&row.key))],
    )?;
    Ok((sql, Value::Object(values)))
}

/// One table of a row pack that holds tenant rows, in parent-first order.
#[derive(Debug, Clone)]
pub struct RowTable {
    pub name: String,
    pub tenant_table: bool,
    /// `[row] keep`: its rows outlive the tenant.
    pub kept: bool,
    /// The quoted columns a COPY writes and restores (no generated ones).
    pub columns: String,
    /// `setval` statements that move its sequences past restored keys.
    pub sequences: Option<String>,
}

/// The tenant table, then every table with the tenant column, parents first.
pub async fn tables(client: &impl GenericClient, row: &RowSpec) -> Result<Vec<RowTable>> {
    let rows = client
        .query(include_str!("../sql/row_tenant_tables.sql"), &[&row.schema, &row.table, &row.column, &row.keep])
        .await
        .with_context(|| format!("cannot read the tables of schema {}", row.schema))?;
    Ok(rows
        .iter()
        .map(|r| RowTable {
            name: r.get("name"),
            tenant_table: r.get("tenant_table"),
            kept: r.get("kept"),
            columns: r.get::<_, Option<String>>("columns").unwrap_or_default(),
            sequences: r.get("sequences"),
        })
        .collect())
}

/// The quoted names `row_tenant_{copy_out,delete,lock}.sql` take for `table`.
pub(crate) fn statement_names(row: &RowSpec, table: &RowTable) -> Vec<(&'static str, String)> {
    let column = if table.tenant_table { &row.key } else { &row.column };
    vec![
        ("table", qualified(row, &table.name)),
        ("column", quote_ident(column)),
        ("key", quote_ident(&row.key)),
        ("tenant_table", qualified(row, &row.table)),
        ("code_column", quote_ident(&row.code)),
    ]
}

/// Renders one of the `row_tenant_*` statements for `table`.
pub(crate) fn statement(template: &str, row: &RowSpec, table: &RowTable) -> Result<String> {
    let values = statement_names(row, table);
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::pg::script::render(template, &pairs)
}
