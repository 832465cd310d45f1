//! `shared.tenants`: the registry of tenants that exist in a database.
//!
//! The registry, not `tenants.toml`, is the truth about what a database holds:
//! the file says what should exist, the registry what does.

use anyhow::{Context as _, Result};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use tokio_postgres::error::SqlState;

use crate::error::failed;
use crate::model::attributes::Resolved;
use crate::model::config::TenantSpec;
use crate::model::tenant::TenantCode;
use crate::store::migrate::{parse_applied, Applied};

/// A registered tenant with the state of its schema.
#[derive(Debug, Clone)]
pub struct Registered {
    pub code: TenantCode,
    pub id: Uuid,
    pub name: String,
    pub tenant_type: String,
    pub schema_name: String,
    pub blueprint: String,
    pub status: String,
    pub schema_exists: bool,
    /// A tenant of a row-tenancy pack: rows in the pack's tables, no schema
    /// (`schema_name` is empty, `schema_exists` false, nothing applied).
    pub row: bool,
    pub applied: Vec<Applied>,
}

impl Registered {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    pub fn version(&self) -> i32 {
        self.applied.iter().map(|a| a.version).max().unwrap_or(0)
    }

    /// What the templates are rendered with.
    pub fn identity(&self) -> crate::model::blueprint::Identity {
        crate::model::blueprint::Identity { code: self.code.clone(), tenant_id: self.id }
    }
}

/// The error for a code this database has no tenant for (exit 2).
pub fn not_registered(code: &TenantCode) -> anyhow::Error {
    crate::error::bad_input(format!("tenant {code} is not registered in this database; see `provision tenant list`"))
}

/// Whether the shared migrations have created the registry yet.
pub async fn exists(client: &impl GenericClient) -> Result<bool> {
    let row = client.query_one("SELECT to_regclass('shared.tenants') IS NOT NULL", &[]).await?;
    Ok(row.get(0))
}

/// Every registered tenant (or just `only`), with applied versions, in one query.
pub async fn snapshot(client: &impl GenericClient, only: Option<&TenantCode>) -> Result<Vec<Registered>> {
    if !exists(client).await? {
        return Ok(Vec::new());
    }
    let filter = only.map(|c| c.as_str());
    let rows = client
        .query(include_str!("sql/registry_snapshot.sql"), &[&filter])
        .await
        .context("cannot read the tenant registry (shared.tenants)")?;
    rows.iter()
        .map(|row| {
            let code: String = row.get("tenant_code");
            Ok(Registered {
                code: TenantCode::parse(&code)
                    .with_context(|| format!("shared.tenants holds an invalid code {code:?}"))?,
                id: row.get("tenant_id"),
                name: row.get("tenant_name"),
                tenant_type: row.get("tenant_type"),
                schema_name: row.get::<_, Option<String>>("schema_name").unwrap_or_default(),
                blueprint: row.get("blueprint"),
                status: row.get::<_, Option<String>>("status").unwrap_or_default(),
                schema_exists: row.get("schema_exists"),
                row: row.get("row_tenant"),
                applied: parse_applied(row.get::<_, Option<&str>>("applied")),
            })
        })
        .collect()
}

/// Inserts the registry row for `spec`; the caller holds the tenant lock.
/// A row tenant (`row`) has no schema: its `schema_name` stays NULL.
pub async fn insert(client: &impl GenericClient, spec: &TenantSpec, row: bool) -> Result<()> {
    let schema = (!row).then(|| spec.code.schema_name());
    client
        .execute(
            include_str!("sql/registry_insert.sql"),
            &[&spec.id, &spec.code.as_str(), &spec.name, &spec.tenant_type, &schema, &spec.blueprint],
        )
        .await
        .with_context(|| format!("cannot register tenant {} in shared.tenants", spec.code))?;
    let (names, values): (Vec<&str>, Vec<&str>) =
        Resolved::configured(&spec.attributes).map(|(n, v)| (n.as_str(), v.as_str())).unzip();
    if !names.is_empty() {
        client
            .execute(include_str!("sql/registry_attributes.sql"), &[&spec.id, &names, &values])
            .await
            .with_context(|| format!("cannot record the attributes of tenant {} in shared.tenant_config", spec.code))?;
    }
    Ok(())
}

/// Deletes the registry row (and its configuration rows).
///
/// Rows other shared tables keep for the tenant (backups, a blueprint's
/// shared tables) are never deleted behind the operator's back: the foreign key
/// stops the removal and the error names the table.
pub async fn remove(client: &impl GenericClient, code: &TenantCode) -> Result<u64> {
    match client.execute(include_str!("sql/registry_remove.sql"), &[&code.as_str()]).await {
        Ok(removed) => Ok(removed),
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
            let table = e.as_db_error().and_then(|db| Some(format!("{}.{}", db.schema()?, db.table()?)));
            Err(failed(format!(
                "tenant {code} still has rows in {}; delete or archive them first (or use --keep-data); nothing was removed",
                table.unwrap_or_else(|| "a table that references shared.tenants".to_owned())
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// Marks the tenant inactive, keeping everything.
pub async fn deactivate(client: &impl GenericClient, code: &TenantCode) -> Result<u64> {
    Ok(client.execute(include_str!("sql/registry_deactivate.sql"), &[&code.as_str()]).await?)
}

/// Marks the tenant active again (`tenant activate`).
pub async fn activate(client: &impl GenericClient, code: &TenantCode) -> Result<u64> {
    Ok(client.execute(include_str!("sql/registry_activate.sql"), &[&code.as_str()]).await?)
}

/// The SQL `tenant render` prints for the registry row, with literals
/// inlined; a row tenant (`row`) has no schema.
pub fn insert_sql(spec: &TenantSpec, row: bool) -> String {
    use crate::pg::quote::quote_literal as q;
    let schema = match row {
        true => "NULL".to_owned(),
        false => q(&spec.code.schema_name()),
    };
    format!(
        "INSERT INTO shared.tenants (tenant_id, tenant_code, tenant_name, tenant_type, schema_name, blueprint)\nVALUES ({}, {}, {}, {}, {}, {});",
        q(&spec.id.to_string()),
        q(spec.code.as_str()),
        q(&spec.name),
        q(&spec.tenant_type),
        schema,
        q(&spec.blueprint)
    ) + &attributes_sql(spec)
}

/// `tenant render`'s copy of `sql/registry_attributes.sql`, literals inlined.
fn attributes_sql(spec: &TenantSpec) -> String {
    use crate::pg::quote::quote_literal as q;
    let rows: Vec<String> = Resolved::configured(&spec.attributes)
        .map(|(name, value)| {
            let key = format!("attribute.{name}");
            format!("({}, {}, to_jsonb({}::text), 'string')", q(&spec.id.to_string()), q(&key), q(value))
        })
        .collect();
    match rows.is_empty() {
        true => String::new(),
        false => format!(
            "\nINSERT INTO shared.tenant_config (tenant_id, config_key, config_value, config_type)\nVALUES {};",
            rows.join(",\n       ")
        ),
    }
}
